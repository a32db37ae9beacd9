import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHttpAgents, keepAliveOnce } from '../../src/delivery/http-agents';

describe('keepAliveOnce', () => {
  it('passes the first switch-on through and ignores repeats until keep-alive is switched off', () => {
    const calls: Array<[boolean | undefined, number | undefined]> = [];
    const socket = { setKeepAlive: (enable?: boolean, delay?: number) => (calls.push([enable, delay]), socket) } as unknown as Socket;
    keepAliveOnce(socket);
    socket.setKeepAlive(true, 15_000);
    socket.setKeepAlive(true, 60_000);
    socket.setKeepAlive(true, 15_000);
    socket.setKeepAlive(false);
    socket.setKeepAlive(true, 60_000);
    expect(calls).toEqual([
      [true, 15_000],
      [false, undefined],
      [true, 60_000],
    ]);
  });

  it('is installed on the sockets of the delivery agents (one socket reused for several requests)', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { httpAgent } = createHttpAgents({ allowedCidrs: ['127.0.0.0/8'], maxSockets: 1, keepAlive: true });
    const spied: Socket[] = [];
    const get = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent: httpAgent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s: Socket) => {
          if (!spied.includes(s)) spied.push(s);
          s.setKeepAlive(true, 60_000); // what axios does on every request
        });
        req.on('error', reject);
      });
    try {
      for (let i = 0; i < 3; i++) await get();
      expect(spied).toHaveLength(1); // the one socket was reused
      const original = Object.getPrototypeOf(spied[0]).setKeepAlive;
      const own = Object.getOwnPropertyDescriptor(spied[0], 'setKeepAlive')?.value as unknown;
      expect(own).toEqual(expect.any(Function));
      expect(own).not.toBe(original);
    } finally {
      httpAgent.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
