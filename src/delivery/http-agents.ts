import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AddressGuard, createAddressGuard } from './address-guard';

export interface HttpAgentsOptions {
  /** WEBHOOK_ALLOWED_NETWORKS: non-public networks deliveries may reach. */
  allowedCidrs: string[];
  /** Concurrent sockets per origin (host:port). */
  maxSockets: number;
  keepAlive?: boolean;
}

export interface HttpAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  /** The guard installed in both agents; call guard.checkUrlHost(url) for IP-literal hosts, which skip lookup. */
  guard: AddressGuard;
}

/**
 * How long an idle pooled socket is kept. Node's own servers close idle
 * keep-alive connections after 5 s; reusing a socket the receiver is closing at
 * that moment fails the attempt with ECONNRESET, so we let ours go first. A
 * shorter `Keep-Alive: timeout=N` from the receiver wins (Node applies it).
 * Node also arms this as the socket timeout of active requests, where it only
 * emits 'timeout' (nothing aborts); the per-request timeout the sender sets
 * (axios `timeout`) replaces it.
 */
export const FREE_SOCKET_TIMEOUT_MS = 4_000;

/**
 * Switches TCP keep-alive on once per socket and ignores later requests to
 * switch it on again. The agent asks on every return of a socket to the pool
 * and axios on every request, each time two setsockopt calls (about 3% of the
 * service's CPU under load) that change nothing that matters: the probes'
 * delay (15 s or 60 s) is longer than an idle socket is kept (4 s) and than
 * the longest request (30 s timeout).
 */
export function keepAliveOnce(socket: Socket): void {
  const setKeepAlive = socket.setKeepAlive.bind(socket);
  let on = false;
  socket.setKeepAlive = (enable = false, initialDelay?: number): Socket => {
    if (enable && on) return socket;
    on = enable;
    return setKeepAlive(enable, initialDelay);
  };
}

function withKeepAliveOnce(stream: Duplex | null | undefined): Duplex | null | undefined {
  if (stream && typeof (stream as Socket).setKeepAlive === 'function') keepAliveOnce(stream as Socket);
  return stream;
}

class DeliveryHttpAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return withKeepAliveOnce(super.createConnection(options, callback));
  }
}

class DeliveryHttpsAgent extends https.Agent {
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return withKeepAliveOnce(super.createConnection(options, callback));
  }
}

/** Agents for outgoing deliveries (pass to axios as httpAgent/httpsAgent): keep-alive pools whose every new connection goes through the address guard. */
export function createHttpAgents(options: HttpAgentsOptions): HttpAgents {
  const guard = createAddressGuard(options.allowedCidrs);
  const agentOptions: http.AgentOptions = {
    keepAlive: options.keepAlive ?? true,
    keepAliveMsecs: 15_000, // TCP keep-alive probe delay on idle sockets
    maxSockets: options.maxSockets,
    maxFreeSockets: Math.min(options.maxSockets, 256),
    timeout: FREE_SOCKET_TIMEOUT_MS,
    scheduling: 'lifo', // reuse the most recent socket, let the rest time out
    lookup: guard.lookup,
  };
  return { httpAgent: new DeliveryHttpAgent(agentOptions), httpsAgent: new DeliveryHttpsAgent(agentOptions), guard };
}
