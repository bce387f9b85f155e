import { isIP } from 'node:net';
import { errors } from '../errors.js';

/** A peer's listening address: `host:port`, IPv6 in brackets (`[::1]:9000`). */
export interface Address {
  host: string;
  port: number;
}

/** Longest address string accepted, in characters. */
export const MAX_ADDRESS_LENGTH = 300;

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses `host:port` or `[ipv6]:port`. Throws ERR_INVALID_ARGUMENT on
 * anything else: a bare IPv6 address without brackets, a port outside
 * 1..65535, an empty or ill-formed host.
 */
export function parseAddress(text: string): Address {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDRESS_LENGTH) {
    throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}`);
  }
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: expected [ipv6]:port`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: expected host:port`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: put an IPv6 address in brackets, [${host}]:${portText}`);
    if (isIP(host) !== 4 && !HOSTNAME.test(host)) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: bad host`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: bad port`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw errors.invalidArgument(`malformed address ${JSON.stringify(text)}: port out of range`);
  return { host, port };
}

/** `host:port`, with an IPv6 host in brackets. */
export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The canonical form of an address string (throws if malformed). */
export function normalizeAddress(text: string): string {
  const { host, port } = parseAddress(text);
  return formatAddress(host, port);
}
