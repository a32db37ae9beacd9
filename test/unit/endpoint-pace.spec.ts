import { EndpointPace } from '../../src/delivery/queue/endpoint-pace';

describe('EndpointPace', () => {
  const pace = () => new EndpointPace(8, 2000, 24, 4096);

  it('gives a webhook not heard from yet the floor', () => {
    expect(pace().share('w')).toBe(24);
  });

  it('lets a fast endpoint hold what its slots get through in the horizon, up to the ceiling', () => {
    const p = pace();
    p.observe('fast', 10); // 8 slots x 2000 ms / 10 ms = 1600
    expect(p.share('fast')).toBe(1600);
    p.observe('instant', 0); // durations under 1 ms count as 1 ms: 16,000, above the ceiling
    expect(p.share('instant')).toBe(4096);
  });

  it('keeps a slow endpoint at the floor', () => {
    const p = pace();
    p.observe('slow', 3000);
    expect(p.share('slow')).toBe(24);
  });

  it('follows the endpoint as it slows down, by a weighted mean', () => {
    const p = pace();
    p.observe('w', 10);
    p.observe('w', 1010); // mean 10 + 0.1 x 1000 = 110 ms: 8 x 2000 / 110 = 145
    expect(p.share('w')).toBe(145);
    for (let i = 0; i < 50; i++) p.observe('w', 1000);
    expect(p.share('w')).toBe(24);
  });

  it('forgets a webhook', () => {
    const p = pace();
    p.observe('w', 1);
    p.forget('w');
    expect(p.share('w')).toBe(24);
  });
});
