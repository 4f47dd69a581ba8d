// The L7 data plane of the service engine: HTTP/1.1 and HTTP/2 (over TLS) reverse proxy with
// SNI, policies and pooled upstream connections. The runtime creates one listener per VIP:port.
import type { CreateL7Listener } from '../contracts.js';
import { L7ListenerImpl } from './listener.js';

export const createL7Listener: CreateL7Listener = (spec, index, ctx) => new L7ListenerImpl(spec, index, ctx);
