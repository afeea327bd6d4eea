import sys, json, time
sys.path.insert(0, 'peers'); sys.path.insert(0, 'test/peer')
import tlcv_peer, dann
grid = [
  dict(name='tlcv-default adamw1e-3 e5 t1', optimizer='adamw', lr=1e-3, epochs=5, tradeoff=1),
  dict(name='control t0 e5', optimizer='adamw', lr=1e-3, epochs=5, tradeoff=0),
  dict(name='adamw1e-3 e20 t1', optimizer='adamw', lr=1e-3, epochs=20, tradeoff=1),
  dict(name='adamw1e-3 e20 t0.1', optimizer='adamw', lr=1e-3, epochs=20, tradeoff=0.1),
  dict(name='adamw1e-4 e20 t1', optimizer='adamw', lr=1e-4, epochs=20, tradeoff=1),
  dict(name='sgd1e-2 e20 t1', optimizer='sgd', lr=1e-2, weightDecay=1e-3, epochs=20, tradeoff=1),
  dict(name='sgd1e-2 e100 t1', optimizer='sgd', lr=1e-2, weightDecay=1e-3, epochs=100, tradeoff=1),
  dict(name='sgd1e-3 e100 t1', optimizer='sgd', lr=1e-3, weightDecay=1e-3, epochs=100, tradeoff=1),
  dict(name='adamw1e-3 e100 t1', optimizer='adamw', lr=1e-3, epochs=100, tradeoff=1),
  dict(name='adamw1e-3 e20 t1 ls0', optimizer='adamw', lr=1e-3, epochs=20, tradeoff=1, labelSmoothing=0.0),
]
out = {}
for shift in ['rotate', 'noise', 'invert', 'translate']:
    t, m = tlcv_peer.load(f'peer-data/{shift}')
    for g in grid:
        t0 = time.time()
        r = dann.run(t, {**m, **{k: v for k, v in g.items() if k != 'name'}}, 'cuda')
        e = r['epochs']
        print(f"{shift:9s} {g['name']:28s} before {r['before']:.3f} after {r['after']:.3f} best {max(e):.3f} dom {r['domainAccuracy'][-1]:.2f} ({time.time()-t0:.0f}s)", flush=True)
