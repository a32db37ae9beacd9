import { Agent } from 'undici';
import { AddressGuard, createAddressGuard } from './address-guard';

export interface DeliveryAgentOptions {
  /** WEBHOOK_ALLOWED_NETWORKS: non-public networks deliveries may reach. */
  allowedCidrs: string[];
  /** Concurrent connections per origin (host:port). */
  connectionsPerOrigin: number;
}

export interface DeliveryAgent {
  agent: Agent;
  /** The guard installed as the connection's DNS lookup; call guard.checkUrlHost(url) for IP-literal hosts, which skip lookup. */
  guard: AddressGuard;
}

/**
 * How long an idle pooled connection is kept. Node's own servers close idle
 * keep-alive connections after 5 s; reusing a socket the receiver is closing
 * at that moment fails the attempt, so ours go first. A shorter
 * `Keep-Alive: timeout=N` from the receiver wins (undici honours it).
 */
export const IDLE_CONNECTION_MS = 4_000;

/** How long establishing a connection (TCP and TLS) may take, before the webhook's own timeout starts. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The HTTP client of deliveries: one undici Agent (a keep-alive pool per
 * origin) whose every new connection resolves its host through the address
 * guard, so a name that resolves to a non-public address is refused at
 * connect time, after DNS. undici follows no redirects unless asked to.
 */
export function createDeliveryAgent(options: DeliveryAgentOptions): DeliveryAgent {
  const guard = createAddressGuard(options.allowedCidrs);
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: IDLE_CONNECTION_MS,
    keepAliveMaxTimeout: IDLE_CONNECTION_MS,
    // the sender sets headersTimeout and bodyTimeout per request (the webhook's timeout_ms)
    connect: { lookup: guard.lookup, timeout: CONNECT_TIMEOUT_MS },
  });
  return { agent, guard };
}
