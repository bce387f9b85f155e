export { Doc, type DocOptions, type StructureClass } from './doc.js';
export { MuxProtocol, type ChannelEvent, type ChannelHost, DEFAULT_MAX_CHANNELS, MAX_CHANNEL_NAME_BYTES } from './mux-protocol.js';
export { CONTROL_CHANNEL, type ControlMessage } from './control.js';
