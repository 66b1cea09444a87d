#!/usr/bin/python3
"""Checks `dwsnet corrupt` against the reference semantics of make_cifar_c.py (the CIFAR
file of Hendrycks' robustness repository), re-implemented here with the libraries it
calls: numpy, scipy, scikit-image, OpenCV, Pillow and Wand (ImageMagick), all Debian
packages. Each function below does what the reference function of the same name does,
step by step; where a step is written differently (a batch instead of a loop) the
comment says why it is the same computation.

  deterministic types (contrast, brightness, saturate, gaussian_blur, defocus_blur,
  zoom_blur, pixelate, jpeg_compression): the first --pixel-images test images at
  severities 1-5 must agree byte for byte within 2 grey levels;

  random types (the four noises, glass_blur, motion_blur, snow, fog,
  elastic_transform, spatter): all 10,000 test images at --severities; the same
  classifier's accuracy on our output and on the reference's must agree within 1
  point, and the mean absolute change from the clean pixels within 5%.

frost is not checked: the reference blends in photographs this project does not
have, and ours is a procedural texture (docs/corruptions.md).

The classifier is tests/fixtures/torch_mlps/torch-seq-64-32-adam.onnx (3072-64-32-10,
trained by PyTorch on CIFAR-10; 41.8% clean test accuracy), run with numpy.

The reference truncates its float result to bytes (np.uint8) where `dwsnet corrupt`
rounds, a shift of half a grey level that is a convention, not a corruption: the
criteria compare with the reference's result rounded the same way (every quantisation
inside a corruption, as glass_blur's or ImageMagick's, is kept as the reference has it).
The pixel check must also hold against the truncated bytes, and the table reports the
truncated mean change beside the rounded one.

Exit 0 when every check passes, 1 when one fails, 77 when the data or (outside CI) a
module is missing. usage:
  corrupt_reference.py [--data DIR] [--bin bin/dwsnet] [--types a,b] [--severities 1,3,5]
                       [--pixel-images 300] [--json FILE]
"""
import argparse
import concurrent.futures
import ctypes
import gzip
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from io import BytesIO

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLASSIFIER = os.path.join(ROOT, "tests/fixtures/torch_mlps/torch-seq-64-32-adam.onnx")
RECORD = 3073
DETERMINISTIC = ["contrast", "brightness", "saturate", "gaussian_blur", "defocus_blur", "zoom_blur", "pixelate",
                 "jpeg_compression"]
RANDOM = ["gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "glass_blur", "motion_blur", "snow", "fog",
          "elastic_transform", "spatter"]
# Image-by-image in Python (ImageMagick, OpenCV): split over worker processes.
SLOW = ["motion_blur", "snow", "elastic_transform", "spatter"]
MAX_PIXEL_DIFF = 2          # grey levels
MAX_ACC_POINTS = 1.0        # accuracy points
MAX_CHANGE_REL = 0.05       # relative difference of the mean absolute change


def skip(reason):
    print("skipped: " + reason)
    sys.exit(77)


# One thread per process: the parallelism is the worker processes (and dwsnet beside them).
os.environ.setdefault("MAGICK_THREAD_LIMIT", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
try:
    import numpy as np
    import cv2
    import onnx
    import skimage as sk
    import skimage.color  # noqa: F401
    import skimage.util  # noqa: F401
    from onnx import numpy_helper
    from PIL import Image
    from scipy.ndimage import map_coordinates
    from scipy.ndimage import zoom as scizoom
    from skimage.filters import gaussian
    from wand.api import library as wandlibrary
    from wand.image import Image as WandImage
except ImportError as e:  # a failure under CI, where scripts/install-deps has run
    if os.environ.get("CI") == "true":
        print("FAIL: missing Python module under CI: %s (scripts/install-deps installs it)" % e)
        sys.exit(1)
    skip("missing Python module: %s (scripts/install-deps installs it)" % e)

cv2.setNumThreads(1)
# Wand has no motion_blur of its own in the version the reference used: it declares the
# C function, as make_cifar_c.py does.
wandlibrary.MagickMotionBlurImage.argtypes = (ctypes.c_void_p, ctypes.c_double, ctypes.c_double, ctypes.c_double)


def wand_motion_blur(png, radius, sigma, angle):
    """PNG bytes -> ImageMagick MotionBlurImage -> decoded by cv2 (as the reference)."""
    with WandImage(blob=png) as im:
        wandlibrary.MagickMotionBlurImage(im.wand, radius, sigma, angle)
        im.options["png:compression-level"] = "0"   # lossless either way; faster
        return cv2.imdecode(np.frombuffer(im.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED)


def png_bytes(arr, mode=None):
    """PNG as the reference writes it, uncompressed (zlib level 0; the pixels are the same)."""
    out = BytesIO()
    Image.fromarray(arr, mode=mode).save(out, format="PNG", compress_level=0)
    return out.getvalue()


# ---- helpers of make_cifar_c.py ----

def disk(radius, alias_blur):
    span = np.arange(-8, 8 + 1) if radius <= 8 else np.arange(-radius, radius + 1)
    ksize = (3, 3) if radius <= 8 else (5, 5)
    xx, yy = np.meshgrid(span, span)
    k = np.array((xx ** 2 + yy ** 2) <= radius ** 2, dtype=np.float32)
    k /= np.sum(k)
    return cv2.GaussianBlur(k, ksize=ksize, sigmaX=alias_blur)


def plasma_fractal(rng, n_maps, mapsize=32, wibbledecay=3):
    """The reference's diamond-square, with a leading axis holding n_maps independent maps
    (np.roll on axes 1 and 2 is its roll on axes 0 and 1, map by map)."""
    m = np.empty((n_maps, mapsize, mapsize))
    m[:, 0, 0] = 0
    step, wibble = mapsize, 100.0

    def wibbled(a):
        return a / 4 + wibble * rng.uniform(-wibble, wibble, a.shape)

    while step >= 2:
        h = step // 2
        c = m[:, 0:mapsize:step, 0:mapsize:step]
        acc = c + np.roll(c, -1, axis=1)
        acc = acc + np.roll(acc, -1, axis=2)
        m[:, h:mapsize:step, h:mapsize:step] = wibbled(acc)
        dr = m[:, h:mapsize:step, h:mapsize:step]
        ul = m[:, 0:mapsize:step, 0:mapsize:step]
        m[:, 0:mapsize:step, h:mapsize:step] = wibbled(dr + np.roll(dr, 1, axis=1) + ul + np.roll(ul, -1, axis=2))
        m[:, h:mapsize:step, 0:mapsize:step] = wibbled(dr + np.roll(dr, 1, axis=2) + ul + np.roll(ul, -1, axis=1))
        step //= 2
        wibble /= wibbledecay
    m -= m.min(axis=(1, 2), keepdims=True)
    return m / m.max(axis=(1, 2), keepdims=True)


def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim = (img.shape[0] - h) // 2
    return img[trim:trim + h, trim:trim + h]


# ---- the corruptions: batch (N, 32, 32, 3) uint8 in, float in [0, 255] out ----

def gaussian_noise(x, sev, rng):
    c = [0.04, 0.06, .08, .09, .10][sev - 1]
    x = x / 255.
    return np.clip(x + rng.normal(size=x.shape, scale=c), 0, 1) * 255


def shot_noise(x, sev, rng):
    c = [500, 250, 100, 75, 50][sev - 1]
    x = x / 255.
    return np.clip(rng.poisson(x * c) / c, 0, 1) * 255


def impulse_noise(x, sev, rng):
    # random_noise draws every value independently: one call on the batch is the
    # reference's call image by image.
    c = [.01, .02, .03, .05, .07][sev - 1]
    x = sk.util.random_noise(x / 255., mode="s&p", amount=c, seed=int(rng.integers(2 ** 31)))
    return np.clip(x, 0, 1) * 255


def speckle_noise(x, sev, rng):
    c = [.06, .1, .12, .16, .2][sev - 1]
    x = x / 255.
    return np.clip(x + x * rng.normal(size=x.shape, scale=c), 0, 1) * 255


def gaussian_blur(x, sev, rng):
    c = [.4, .6, 0.7, .8, 1][sev - 1]
    return np.stack([np.clip(gaussian(im / 255., sigma=c, channel_axis=-1), 0, 1) * 255 for im in x])


def glass_blur(x, sev, rng):
    sigma, delta, iterations = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)][sev - 1]
    # skimage's gaussian with sigma 0 on the batch axis is its call image by image.
    x = np.uint8(gaussian(x / 255., sigma=(0, sigma, sigma), channel_axis=-1) * 255)
    n, h, w, _ = x.shape
    for _ in range(iterations):
        # The loop `x[h, w], x[h', w'] = x[h', w'], x[h, w]` over h, w from 32 - delta
        # down to delta + 1 copies x[h', w'] into x[h, w] (numpy rows are views). With
        # delta = 1, (h', w') is (h or h - 1, w or w - 1): a pixel the loop has not
        # reached yet, so every copy reads the array as it was before the pass, and
        # the pass is this gather. glass_blur_loop() checks that on a few images.
        assert delta == 1
        d = rng.integers(-delta, delta, size=(n, h - 2 * delta, w - 2 * delta, 2))   # (dx, dy)
        ys, xs = np.mgrid[delta + 1:h - delta + 1, delta + 1:w - delta + 1]
        src = x[np.arange(n)[:, None, None], ys + d[..., 1], xs + d[..., 0]]
        x = x.copy()
        x[:, delta + 1:h - delta + 1, delta + 1:w - delta + 1] = src
    return np.clip(gaussian(x / 255., sigma=(0, sigma, sigma), channel_axis=-1), 0, 1) * 255


def glass_blur_loop(x, delta, draws):
    """One pass of the reference's loop on one image, with given (dx, dy) draws."""
    x = x.copy()
    k = 0
    for h in range(32 - delta, delta, -1):
        for w in range(32 - delta, delta, -1):
            dx, dy = draws[k]
            k += 1
            h2, w2 = h + dy, w + dx
            x[h, w], x[h2, w2] = x[h2, w2], x[h, w]
    return x


def defocus_blur(x, sev, rng):
    c = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)][sev - 1]
    kernel = disk(radius=c[0], alias_blur=c[1])
    out = []
    for im in x:
        im = im / 255.
        ch = np.array([cv2.filter2D(im[:, :, d], -1, kernel) for d in range(3)]).transpose((1, 2, 0))
        out.append(np.clip(ch, 0, 1) * 255)
    return np.stack(out)


def motion_blur(x, sev, rng):
    c = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)][sev - 1]
    out = []
    for im in x:
        y = wand_motion_blur(png_bytes(im), c[0], c[1], rng.uniform(-45, 45))
        out.append(np.clip(y[..., [2, 1, 0]], 0, 255) if y.shape != (32, 32) else np.stack([y, y, y], axis=-1))
    return np.stack(out).astype(np.float64)


def zoom_blur(x, sev, rng):
    stop = [1.06, 1.11, 1.16, 1.21, 1.26][sev - 1]
    factors = np.arange(1, stop, 0.01)
    out = []
    for im in x:
        im = (im / 255.).astype(np.float32)
        acc = np.zeros_like(im)
        for z in factors:
            acc += clipped_zoom(im, z)
        out.append(np.clip((im + acc) / (len(factors) + 1), 0, 1) * 255)
    return np.stack(out)


def snow(x, sev, rng):
    c = [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
         (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)][sev - 1]
    # clipped_zoom of the stacked layers (the batch as the channel axis, zoom 1 on it) is
    # clipped_zoom of each.
    layers = clipped_zoom(rng.normal(size=(32, 32, len(x)), loc=c[0], scale=c[1]), c[2])
    layers[layers < c[3]] = 0
    layers = (np.clip(layers, 0, 1) * 255).astype(np.uint8)
    out = []
    for i, im in enumerate(x):
        im = np.array(im, dtype=np.float32) / 255.
        layer = wand_motion_blur(png_bytes(np.ascontiguousarray(layers[..., i]), "L"), c[4], c[5],
                                 rng.uniform(-135, -45)) / 255.
        layer = layer[..., np.newaxis]
        grey = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).reshape(32, 32, 1)
        im = c[6] * im + (1 - c[6]) * np.maximum(im, grey * 1.5 + 0.5)
        out.append(np.clip(im + layer + np.rot90(layer, k=2), 0, 1) * 255)
    return np.stack(out)


def fog(x, sev, rng):
    c = [(.2, 3), (.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)][sev - 1]
    x = x / 255.
    max_val = x.max(axis=(1, 2, 3), keepdims=True)
    x = x + c[0] * plasma_fractal(rng, len(x), wibbledecay=c[1])[:, :32, :32][..., np.newaxis]
    return np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255


def elastic_transform(x, sev, rng):
    s = 32
    c = [(s * 0, s * 0, s * 0.08), (s * 0.05, s * 0.2, s * 0.07), (s * 0.08, s * 0.06, s * 0.06),
         (s * 0.1, s * 0.04, s * 0.05), (s * 0.1, s * 0.03, s * 0.03)][sev - 1]
    # skimage's gaussian with sigma 0 on the batch axis is its call field by field.
    fields = rng.uniform(-1, 1, size=(2, len(x), 32, 32))
    if c[1] > 0:
        fields = np.stack([gaussian(f, (0, c[1], c[1]), mode="reflect", truncate=3) for f in fields])
    fields = (fields * c[0]).astype(np.float32)
    out = []
    for i, im in enumerate(x):
        im = np.array(im, dtype=np.float32) / 255.
        shape = im.shape
        centre = np.float32(shape[:2]) // 2
        side = min(shape[:2]) // 3
        pts1 = np.float32([centre + side, [centre[0] + side, centre[1] - side], centre - side])
        pts2 = pts1 + rng.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32)
        im = cv2.warpAffine(im, cv2.getAffineTransform(pts1, pts2), shape[:2][::-1],
                            borderMode=cv2.BORDER_REFLECT_101)
        dx, dy = fields[0, i], fields[1, i]
        xx, yy, zz = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
        idx = (np.reshape(yy + dy[..., None], (-1, 1)), np.reshape(xx + dx[..., None], (-1, 1)),
               np.reshape(zz, (-1, 1)))
        out.append(np.clip(map_coordinates(im, idx, order=1, mode="reflect").reshape(shape), 0, 1) * 255)
    return np.stack(out)


def pixelate(x, sev, rng):
    c = [0.95, 0.9, 0.85, 0.75, 0.65][sev - 1]
    out = []
    for im in x:
        p = Image.fromarray(im).resize((int(32 * c), int(32 * c)), Image.BOX).resize((32, 32), Image.BOX)
        out.append(np.asarray(p, dtype=np.float64))
    return np.stack(out)


def jpeg_compression(x, sev, rng):
    c = [80, 65, 58, 50, 40][sev - 1]
    out = []
    for im in x:
        buf = BytesIO()
        Image.fromarray(im).save(buf, "JPEG", quality=c)
        out.append(np.asarray(Image.open(buf), dtype=np.float64))
    return np.stack(out)


def spatter(x, sev, rng):
    c = [(0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0), (0.65, 0.3, 1, 0.69, 0.5, 0),
         (0.65, 0.1, 0.7, 0.69, 0.6, 1), (0.65, 0.1, 0.5, 0.68, 0.6, 1)][sev - 1]
    liquids = gaussian(rng.normal(size=(len(x), 32, 32), loc=c[0], scale=c[1]), sigma=(0, c[2], c[2]))
    liquids[liquids < c[3]] = 0
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for im, liquid in zip(x, liquids):
            im = np.array(im, dtype=np.float32) / 255.
            if c[5] == 0:
                liquid = (liquid * 255).astype(np.uint8)
                dist = cv2.distanceTransform(255 - cv2.Canny(liquid, 50, 150), cv2.DIST_L2, 5)
                _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
                dist = cv2.equalizeHist(cv2.blur(dist, (3, 3)).astype(np.uint8))
                dist = cv2.filter2D(dist, cv2.CV_8U, np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]))
                dist = cv2.blur(dist, (3, 3)).astype(np.float32)
                m = cv2.cvtColor(liquid * dist, cv2.COLOR_GRAY2BGRA)
                m /= np.max(m, axis=(0, 1))
                m *= c[4]
                colour = np.concatenate((175 / 255. * np.ones_like(m[..., :1]), 238 / 255. * np.ones_like(m[..., :1]),
                                         238 / 255. * np.ones_like(m[..., :1])), axis=2)
                colour = cv2.cvtColor(colour, cv2.COLOR_BGR2BGRA)
                im = cv2.cvtColor(im, cv2.COLOR_BGR2BGRA)
                out.append(cv2.cvtColor(np.clip(im + m * colour, 0, 1), cv2.COLOR_BGRA2BGR) * 255)
            else:
                m = gaussian(np.where(liquid > c[3], 1, 0).astype(np.float32), sigma=c[4])
                m[m < 0.8] = 0
                colour = np.concatenate((63 / 255. * np.ones_like(im[..., :1]), 42 / 255. * np.ones_like(im[..., :1]),
                                         20 / 255. * np.ones_like(im[..., :1])), axis=2)
                colour *= m[..., np.newaxis]
                im *= (1 - m[..., np.newaxis])
                out.append(np.clip(im + colour, 0, 1) * 255)
    return np.stack(out)


def hsv_step(x, sev, channel, change):
    out = []
    for im in x:
        im = sk.color.rgb2hsv(im / 255.)
        im[:, :, channel] = np.clip(change(im[:, :, channel]), 0, 1)
        out.append(np.clip(sk.color.hsv2rgb(im), 0, 1) * 255)
    return np.stack(out)


def brightness(x, sev, rng):
    c = [.05, .1, .15, .2, .3][sev - 1]
    return hsv_step(x, sev, 2, lambda v: v + c)


def saturate(x, sev, rng):
    c = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)][sev - 1]
    return hsv_step(x, sev, 1, lambda s: s * c[0] + c[1])


def contrast(x, sev, rng):
    c = [.75, .5, .4, .3, 0.15][sev - 1]
    x = x / 255.
    means = np.mean(x, axis=(1, 2), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1) * 255


# ---- plumbing ----

def read_records(path):
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    arr = np.frombuffer(raw, np.uint8).reshape(-1, RECORD)
    return arr[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), arr[:, 0].copy()


def classifier():
    model = onnx.load(CLASSIFIER)
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    layers = [(w["%d.weight" % i], w["%d.bias" % i]) for i in (1, 3, 5)]

    def predict(x_hwc_bytes):
        h = x_hwc_bytes.transpose(0, 3, 1, 2).reshape(len(x_hwc_bytes), -1) / 255.
        for k, (wt, b) in enumerate(layers):
            h = h @ wt.T + b
            if k < len(layers) - 1:
                h = np.maximum(h, 0)
        return h.argmax(1)
    return predict


def reference_bytes(name, x, sev, seed):
    """The reference's output as bytes two ways: rounded (as `dwsnet corrupt` writes
    its float result) and truncated (np.uint8, as make_cifar_c.py writes its own)."""
    y = globals()[name](x, sev, np.random.default_rng(seed))
    return np.uint8(np.round(y)), np.uint8(y)


def reference(name, x, sev, rng, pool):
    """Every image is corrupted on its own, so parts of the batch can go to worker
    processes, each with its own random stream."""
    if pool is None or name not in SLOW:
        return reference_bytes(name, x, sev, int(rng.integers(2 ** 63)))
    parts = np.array_split(x, pool._max_workers)
    jobs = [pool.submit(reference_bytes, name, p, sev, int(rng.integers(2 ** 63))) for p in parts]
    done = [j.result() for j in jobs]
    return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])


def dwsnet(binary, data_dir, spec, seed, out):
    """Starts `dwsnet corrupt`; the returned function waits for it and reads its output."""
    proc = subprocess.Popen([binary, "corrupt", "--data", data_dir, "--split", "test", "--domain", spec, "--seed",
                             str(seed), "--out", out], stdout=subprocess.DEVNULL)

    def result():
        if proc.wait():
            raise SystemExit("FAIL: dwsnet corrupt --domain %s exited %d" % (spec, proc.returncode))
        return read_records(out)[0]
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("DWSNET_DATA", os.path.join(ROOT, "../shared/data/cifar10")))
    ap.add_argument("--bin", default=os.path.join(os.environ.get("BIN", "bin"), "dwsnet"))
    ap.add_argument("--types", default=",".join(DETERMINISTIC + RANDOM))
    ap.add_argument("--severities", default="1,3,5", help="severities of the random types")
    ap.add_argument("--pixel-images", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    ap.add_argument("--json")
    a = ap.parse_args()
    test = next((os.path.join(a.data, n) for n in ("test_batch.bin", "test_batch.bin.gz")
                 if os.path.exists(os.path.join(a.data, n))), None)
    if not test:
        skip("no data (set DWSNET_DATA to a CIFAR-10 binary folder)")
    types = a.types.split(",")
    for t in types:
        if t not in DETERMINISTIC + RANDOM:
            ap.error("unknown or unchecked type %s" % t)
    severities = [int(s) for s in a.severities.split(",")]
    clean, labels = read_records(test)
    predict = classifier()
    rng = np.random.default_rng(a.seed)
    start = time.time()

    # The reference's loop and the gather of glass_blur() agree, on given draws.
    probe = clean[:3]
    for im in probe:
        draws = rng.integers(-1, 1, size=(30 * 30, 2))
        looped = glass_blur_loop(im, 1, draws)
        gathered = im.copy()
        ys, xs = np.mgrid[31:1:-1, 31:1:-1]
        d = draws.reshape(30, 30, 2)
        gathered[31:1:-1, 31:1:-1] = im[ys + d[..., 1], xs + d[..., 0]]
        assert np.array_equal(looped, gathered), "glass_blur: the gather is not the reference's loop"

    results, failed = [], 0
    pool = None
    if a.jobs > 1:
        pool = concurrent.futures.ProcessPoolExecutor(a.jobs, mp_context=multiprocessing.get_context("fork"))
    with tempfile.TemporaryDirectory() as tmp:
        full, few = os.path.join(tmp, "full"), os.path.join(tmp, "few")
        os.makedirs(full)
        os.makedirs(few)
        records = np.concatenate([labels[:, None], clean.transpose(0, 3, 1, 2).reshape(len(clean), -1)], axis=1)
        records.tofile(os.path.join(full, "test_batch.bin"))
        records[:a.pixel_images].tofile(os.path.join(few, "test_batch.bin"))
        out = os.path.join(tmp, "out.bin")
        clean_acc = float((predict(clean) == labels).mean())
        for t in types:
            for sev in (range(1, 6) if t in DETERMINISTIC else severities):
                spec = "%s:%d" % (t, sev)
                t0 = time.time()
                if t in DETERMINISTIC:
                    pending = dwsnet(a.bin, few, spec, a.seed, out)
                    ref, ref_trunc = (r.astype(np.int16) for r in reference(t, clean[:a.pixel_images], sev, rng, None))
                    ours = pending().astype(np.int16)
                    diff, diff_trunc = int(np.abs(ours - ref).max()), int(np.abs(ours - ref_trunc).max())
                    ok = diff <= MAX_PIXEL_DIFF and diff_trunc <= MAX_PIXEL_DIFF
                    row = dict(domain=spec, images=a.pixel_images, max_pixel_diff=diff,
                               pixels_differing=round(float((ours != ref).mean()), 5),
                               max_pixel_diff_truncated=diff_trunc)
                    line = "max |diff| %d grey level(s), %.3f%% of values differ (%d against np.uint8)" % (
                        diff, 100 * row["pixels_differing"], diff_trunc)
                else:
                    pending = dwsnet(a.bin, full, spec, a.seed, out)
                    ref, ref_trunc = reference(t, clean, sev, rng, pool)
                    ours = pending()
                    acc_ours = float((predict(ours) == labels).mean())
                    acc_ref = float((predict(ref) == labels).mean())
                    change_ours = float(np.abs(ours.astype(np.int16) - clean).mean() / 255)
                    change_ref = float(np.abs(ref.astype(np.int16) - clean).mean() / 255)
                    change_trunc = float(np.abs(ref_trunc.astype(np.int16) - clean).mean() / 255)
                    rel = abs(change_ours - change_ref) / change_ref
                    ok = abs(acc_ours - acc_ref) * 100 <= MAX_ACC_POINTS and rel <= MAX_CHANGE_REL
                    row = dict(domain=spec, images=len(clean), acc_ours=round(acc_ours, 4), acc_ref=round(acc_ref, 4),
                               mean_change_ours=round(change_ours, 5), mean_change_ref=round(change_ref, 5),
                               change_rel_diff=round(rel, 4), mean_change_ref_truncated=round(change_trunc, 5))
                    line = "accuracy %.2f%% vs %.2f%% (clean %.2f%%), mean change %.4f vs %.4f (%+.1f%%; %.4f np.uint8)" % (
                        100 * acc_ours, 100 * acc_ref, 100 * clean_acc, change_ours, change_ref,
                        100 * (change_ours - change_ref) / change_ref, change_trunc)
                row.update(ok=ok, seconds=round(time.time() - t0, 1))
                results.append(row)
                failed += not ok
                print("%s %-22s %s  [%.1fs]" % ("ok  " if ok else "FAIL", spec, line, row["seconds"]), flush=True)
    if pool:
        pool.shutdown()
    summary = dict(clean_acc=clean_acc, classifier=os.path.relpath(CLASSIFIER, ROOT), seed=a.seed,
                   seconds=round(time.time() - start, 1), results=results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)
    print("%d passed, %d failed (%.0f s)" % (len(results) - failed, failed, summary["seconds"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
