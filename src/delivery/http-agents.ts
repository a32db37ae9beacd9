import * as http from 'node:http';
import * as https from 'node:https';
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
  return { httpAgent: new http.Agent(agentOptions), httpsAgent: new https.Agent(agentOptions), guard };
}
