"""The judges of a3_denoising (instructor-only): the class grader (`python3 tasks.py grade`) and the
instructor notebook's hidden tests (plain `nbgrader autograde`) both decide with the functions of `CHECKS`.

- Tasks 1, 2 and 4 run in NumPy-only steps: only the answer cell, with NumPy the only importable
  package (in a kernel: every other library refused while the function runs), called on inputs the
  grader draws afresh for every submission. Task 4 asks for a threshold whose false-positive rate is at
  most α with a given confidence (the distribution-free bound: the k-th smallest score, k from the
  binomial distribution): the judges compare the rank with the bound's, count on 300 validation sets
  of a known distribution how often the threshold's false-positive rate exceeds α, and on anomaly
  scores that the grader computes itself (its own plain autoencoder, MNIST digits outside the
  notebook's data, Fashion-MNIST images) measure the false-positive rate and the recall on scores
  that never entered the step.
- Task 3 runs the notebook (the instructor's given cells and the student's answers), which saves
  `dae`; a second step with no student code loads it (`safe_mode`) and reconstructs test images
  outside the notebook's x_test, corrupted here with noise drawn afresh. The judge compares the PSNR
  gain with the noisy input and with the grader's own plain autoencoder. What the student trained on
  cannot raise the score: the model is measured on images and noise the student's process never had.
"""

import functools
import threading

import numpy as np

from aekeras_tools.grading.probe import got
from aekeras_tools.grading.steps import Step
from aekeras_tools.grading.steps import numpy_step

PRELOAD = ("keras", "aekeras")  # what the training steps import: loaded while the step before runs

NOTEBOOK = "a3_denoising"
DATASETS = ("mnist", "fashion_mnist")
N_TRAIN, N_TEST, CODE_DIM, NOISE_RATE, EPOCHS = 5000, 1000, 64, 0.2, 8
MIN_GAIN, MIN_MARGIN = 6.0, 1.5  # dB over the noisy input, and over the grader's plain autoencoder

_LOCK = threading.Lock()


@functools.cache
def data():
    """(x_train[:5000], MNIST test, Fashion-MNIST test) as the notebook loads them (the grader's copy)."""
    import aekeras

    with _LOCK:
        x_train = aekeras.datasets.load_mnist("train", n=N_TRAIN)[0]
        x_test = aekeras.datasets.load_mnist("test")[0]
        x_fashion = aekeras.datasets.load_fashion_mnist("test")[0]
    return x_train, x_test, x_fashion


def unseen(rng, n, images=None):
    """`n` test images outside the notebook's x_test (its first N_TEST), drawn by `rng`."""
    images = data()[1] if images is None else images
    return images[N_TEST + rng.choice(len(images) - N_TEST, n, replace=False)]


def corrupt(images, seed, rate=NOISE_RATE):
    import aekeras

    with _LOCK:
        return np.asarray(aekeras.SaltAndPepperNoise(rate).corrupt(images, seed=seed))


# ----------------------------------------------------------------- Task 1
def task1_inputs(rng):
    rates = [0.3, float(rng.uniform(0.03, 0.1)), float(rng.uniform(0.6, 0.9))]
    return {
        "half": np.full((200, 1000), 0.5, dtype="float32"),  # 200,000 values
        "rates": np.asarray(rates),
        "seeds": rng.integers(2**31, size=len(rates) + 2),
        "f64": rng.random((20, 30)),
        "digits": unseen(rng, 1000),
    }


TASK1_PROBE = """
x, rates, seeds = inputs["half"], inputs["rates"], [int(s) for s in inputs["seeds"]]
for i, rate in enumerate(rates):
    attempt(f"half{i}", salt_and_pepper, x, float(rate), np.random.default_rng(seeds[i]))
export("half_after", np.array(x))
attempt("again", salt_and_pepper, x, float(rates[0]), np.random.default_rng(seeds[0]))
attempt("zero", salt_and_pepper, x, 0.0, np.random.default_rng(seeds[-1]))
x64 = inputs["f64"]
noisy = attempt("f64", salt_and_pepper, x64, 0.4, np.random.default_rng(seeds[-2]))
export("f64_after", np.array(x64))
if isinstance(noisy, np.ndarray) and noisy.shape == x64.shape:
    noisy[...] = 0.25  # writing into the result must not change the input
    export("f64_after_write", np.array(x64))
digits, rng = inputs["digits"], np.random.default_rng(seeds[-1])
attempt("digits_first", salt_and_pepper, digits, 0.2, rng)
attempt("digits_second", salt_and_pepper, digits, 0.2, rng)
"""


def _fractions(noisy):
    return float((noisy == 1).mean()), float((noisy == 0).mean())


def check_task1_shape_and_values(values, inputs):
    x = inputs["task1.f64"]
    call = f"salt_and_pepper(x of shape {x.shape} and dtype float64, 0.4, rng)"
    noisy = got(values, "task1.f64", call)
    kind = str(values["task1.f64.type"])
    assert kind == "ndarray" and noisy.shape == x.shape and noisy.dtype == x.dtype, (
        f"{call}: expected a NumPy array of the same shape and dtype; got {kind} of shape {noisy.shape} "
        f"and dtype {noisy.dtype}"
    )
    assert np.array_equal(values["task1.f64_after"], x), (
        "salt_and_pepper must not modify its input x: corrupt a copy"
    )
    assert np.array_equal(values["task1.f64_after_write"], x), (
        "salt_and_pepper must return a new array: writing into its result changed the input x"
    )
    assert np.all((noisy == x) | (noisy == 0) | (noisy == 1)), (
        f"{call}: every value must stay unchanged or become 0 (pepper) or 1 (salt)"
    )
    half = inputs["task1.half"]
    assert np.array_equal(values["task1.half_after"], half), (
        "salt_and_pepper must not modify its input x: corrupt a copy"
    )
    first = got(values, "task1.half0", "salt_and_pepper(x, 0.3, rng)")
    assert first.shape == half.shape and set(np.unique(first).tolist()) <= {0.0, 0.5, 1.0}, (
        "On an array of 0.5s, every value must stay 0.5 or become 0 (pepper) or 1 (salt); got the values "
        f"{np.unique(first)[:10].tolist()} (shape {first.shape})"
    )
    assert not np.array_equal(first, half), (
        "salt_and_pepper(x, 0.3, rng) returned x unchanged: a fraction 0.3 of the values must become 0 or 1"
    )
    zero = got(values, "task1.zero", "salt_and_pepper(x, 0.0, rng)")
    assert np.array_equal(zero, half), "With rate 0 nothing may change"
    again = got(values, "task1.again", "salt_and_pepper(x, 0.3, rng)")
    assert np.array_equal(first, again), (
        "Two calls with generators of the same seed must give the same result: draw every random number from rng"
    )


def check_task1_statistics(values, inputs):
    import aekeras

    half = inputs["task1.half"]
    for i, rate in enumerate(inputs["task1.rates"]):
        rate = float(rate)
        noisy = got(values, f"task1.half{i}", f"salt_and_pepper(x, {rate:.3f}, rng)")
        assert noisy.shape == half.shape, (
            f"salt_and_pepper(x, {rate:.3f}, rng) must return the shape of x {half.shape}; got {noisy.shape}"
        )
        salt, pepper = _fractions(noisy)
        assert abs(salt + pepper - rate) < 0.01, (
            f"rate={rate:.3f}: expected a fraction {rate:.3f} of the values to be corrupted; got "
            f"{salt + pepper:.3f}"
        )
        assert abs(salt - rate / 2) < 0.01 and abs(pepper - rate / 2) < 0.01, (
            f"rate={rate:.3f}: expected half of the corrupted values to be salt (1) and half pepper (0), "
            f"{rate / 2:.3f} each; got salt {salt:.3f}, pepper {pepper:.3f}"
        )
        seed = int(inputs["task1.seeds"][i])
        with _LOCK:
            reference = np.asarray(aekeras.SaltAndPepperNoise(rate).corrupt(half, seed=seed))
        lib_salt, lib_pepper = _fractions(reference)
        assert abs(salt - lib_salt) < 0.01 and abs(pepper - lib_pepper) < 0.01, (
            f"rate={rate:.3f}: aekeras.SaltAndPepperNoise gives salt {lib_salt:.3f} and pepper "
            f"{lib_pepper:.3f}; yours gives salt {salt:.3f} and pepper {pepper:.3f}"
        )
    digits = inputs["task1.digits"]
    first = got(values, "task1.digits_first", "salt_and_pepper(digits, 0.2, rng)")
    second = got(values, "task1.digits_second", "salt_and_pepper(digits, 0.2, rng)")
    assert not np.array_equal(first, second), (
        "Two calls with the same generator must corrupt different pixels: do not re-seed inside the function"
    )
    assert first.shape == digits.shape, (
        f"salt_and_pepper(digits, 0.2, rng) must return the shape {digits.shape}; got {first.shape}"
    )
    changed = float(np.mean(first != digits))
    # Pepper on a black pixel, salt on a white one, change nothing.
    stays = np.where((digits == 0) | (digits == 1), 0.5, 1.0)
    expected = 0.2 * float(np.mean(stays))
    assert abs(changed - expected) < 0.01, (
        f"On MNIST digits with rate 0.2, expected a fraction {expected:.3f} of the pixels to change "
        f"(pepper on a black pixel changes nothing); got {changed:.3f}"
    )


# ----------------------------------------------------------------- Task 2
def task2_inputs(rng):
    digits = unseen(rng, 40)
    x0 = rng.random((int(rng.integers(3, 12)), 30))
    return {
        "one_x": np.zeros((1, 100)),
        "one_hat": np.full((1, 100), 0.1),
        "two_x": np.zeros((2, 3, 3)),
        "two_hat": np.stack([np.full((3, 3), 0.1), np.full((3, 3), 0.01)]),
        "x0": x0,
        "hat0": rng.random(x0.shape),
        "x1": digits[:20, :, :, 0],
        "hat1": digits[20:, :, :, 0],
        "x2": digits[:20],
        "hat2": np.clip(digits[:20] + rng.normal(0, 0.1, digits[:20].shape), 0, 1),
    }


TASK2_PROBE = """
attempt("one", psnr, inputs["one_x"], inputs["one_hat"])
attempt("two", psnr, inputs["two_x"], inputs["two_hat"])
for i in range(3):
    attempt(f"psnr{i}", psnr, inputs[f"x{i}"], inputs[f"hat{i}"])
"""


def _scalar(values, key, call):
    value = got(values, key, call)
    assert value.size == 1, (
        f"{call} must return one number, a float; got an array of shape {value.shape}"
    )
    return float(value.reshape(()))


def check_task2_psnr(values, inputs):
    import aekeras

    one = _scalar(values, "task2.one", "psnr(x, x_hat)")
    assert np.isclose(one, 20.0, atol=1e-6), (
        "One image with every pixel off by 0.1: MSE = 0.01 and PSNR = 10 log10(1 / 0.01) = 20 dB; got "
        f"{one:.4f}"
    )
    two = _scalar(values, "task2.two", "psnr(x, x_hat)")
    assert np.isclose(two, 30.0, atol=1e-6), (
        f"Two images with per-image PSNRs of 20 dB and 40 dB: expected their mean, 30 dB; got {two:.4f}"
        + (
            " (22.97 dB is the PSNR of the mean MSE, not the mean of the per-image PSNRs)"
            if np.isclose(two, 22.967, atol=0.01)
            else ""
        )
    )
    for i in range(3):
        x, x_hat = inputs[f"task2.x{i}"], inputs[f"task2.hat{i}"]
        value = _scalar(values, f"task2.psnr{i}", f"psnr(x of shape {x.shape}, x_hat)")
        expected = aekeras.metrics.psnr(x, x_hat)
        assert np.isclose(value, expected, atol=1e-4), (
            f"psnr on images of shape {x.shape}: expected {expected:.4f} dB (aekeras.metrics.psnr), got "
            f"{value:.4f}"
        )


# ----------------------------------------------------------------- the grader's plain autoencoder
@functools.cache
def plain_autoencoder():
    """The plain autoencoder of the notebook's given cell, trained here (the grader's own, once)."""
    import keras

    import aekeras

    x_train = data()[0]
    with _LOCK:
        keras.utils.set_random_seed(0)
        model = aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM)
        model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
        model.fit(x_train, epochs=EPOCHS, batch_size=64, verbose=0)
    return model


def reconstruct(model, images):
    with _LOCK:
        return np.asarray(model.reconstruct(images))


@functools.cache
def anomaly_scores():
    """The grader's anomaly scores (mean squared reconstruction error of its plain autoencoder) of the MNIST
    and Fashion-MNIST test images outside the notebook's (its first N_TEST of each)."""
    _, x_test, x_fashion = data()
    model = plain_autoencoder()
    return tuple(
        np.mean((reconstruct(model, x[N_TEST:]) - x[N_TEST:]) ** 2, axis=(1, 2, 3))
        for x in (x_test, x_fashion)
    )


# ----------------------------------------------------------------- Task 3
def evaluate_inputs(rng):
    clean = unseen(rng, 1000)
    return {"clean": clean, "noisy": corrupt(clean, seed=int(rng.integers(2**31)))}


SAVE_PROBE = """
import keras
if globals().get("dae") is not None:
    dae.save("out/dae.keras")
"""
EVALUATE_PROBE = """
import keras
import numpy as np

import aekeras

model = keras.models.load_model("dae.keras", safe_mode=True, compile=False)
export("is_autoencoder", isinstance(model, aekeras.models.Autoencoder))
layers = [type(layer).__name__ for layer in model.corruption_layers]
layers += [type(layer).__name__ for layer in model._flatten_layers()
           if isinstance(layer, (keras.layers.GaussianNoise, keras.layers.GaussianDropout))]
export("noise_layers", ", ".join(sorted(set(layers))))
export("rec", model.reconstruct(inputs["noisy"]))
"""


def _gain(values, inputs):
    """The PSNR gain of the student's model on the grader's noisy images (dB)."""
    import aekeras

    if "evaluate.is_autoencoder" not in values:
        raise AssertionError(
            "`dae` could not be evaluated: it is None, or the notebook failed before it was trained, or it "
            "is not a model that loads with keras.models.load_model (an aekeras autoencoder does, without "
            "custom code)."
        )
    assert bool(values["evaluate.is_autoencoder"]), (
        "`dae` must be an aekeras autoencoder (e.g. aekeras.models.DenseAutoencoder)"
    )
    layers = str(values["evaluate.noise_layers"])
    assert not layers, (
        f"`dae` corrupts its inputs with the library's layers ({layers}): the corruption of this task is "
        "yours. Build `dae` without a corruption or noise layer and train it on inputs made by your "
        "salt_and_pepper."
    )
    clean, noisy = inputs["evaluate.clean"], inputs["evaluate.noisy"]
    rec = values["evaluate.rec"]
    assert rec.size == clean.size, (
        f"`dae.reconstruct` must return images of the input's shape {clean.shape}; got {rec.shape}"
    )
    noisy_psnr = aekeras.metrics.psnr(clean, noisy)
    return aekeras.metrics.psnr(clean, rec.reshape(clean.shape)) - noisy_psnr, noisy_psnr


def check_task3_denoises(values, inputs):
    gain, noisy_psnr = _gain(values, inputs)
    assert gain >= MIN_GAIN, (
        f"On 1000 test images outside x_test, with salt-and-pepper noise of rate {NOISE_RATE} drawn by the "
        f"grader (PSNR {noisy_psnr:.2f} dB), expected `dae` to gain at least {MIN_GAIN} dB; got {gain:.2f} dB. "
        "What does your model see as inputs in training, and what as targets?"
    )


def check_task3_beats_plain(values, inputs):
    import aekeras

    gain, noisy_psnr = _gain(values, inputs)
    clean, noisy = inputs["evaluate.clean"], inputs["evaluate.noisy"]
    plain = aekeras.metrics.psnr(clean, reconstruct(plain_autoencoder(), noisy)) - noisy_psnr
    assert gain >= plain + MIN_MARGIN, (
        f"On 1000 test images outside x_test with noise drawn by the grader, expected a gain at least "
        f"{MIN_MARGIN} dB above that of the plain autoencoder trained by the grader ({plain:.2f} dB), i.e. "
        f">= {plain + MIN_MARGIN:.2f} dB; got {gain:.2f} dB"
    )


# ----------------------------------------------------------------- Task 4
N_VALIDATION, N_SETS, N_SET = 3000, 300, 1000


def bound_rank(n, rate, confidence):
    """The smallest k with P(B <= k - 1) >= confidence, B ~ Binomial(n, 1 - rate); n + 1 if none."""
    from scipy import stats

    cdf = stats.binom.cdf(np.arange(n), n, 1 - rate)  # cdf[j] = P(B <= j)
    return int(np.searchsorted(cdf, confidence)) + 1


def bound_threshold(scores, rate, confidence):
    """The reference: a_(k) of the distribution-free bound (None when n scores cannot give it)."""
    scores = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    k = bound_rank(len(scores), rate, confidence)
    return None if k > len(scores) else float(scores[k - 1])


def too_few(rate, confidence):
    """The largest n for which no k <= n gives the guarantee: (1 - rate)**n > 1 - confidence."""
    return int(np.ceil(np.log(1 - confidence) / np.log(1 - rate))) - 1


def task4_inputs(rng):
    """Scores for the student's function: the held-out scores and the anomalies never enter the step."""
    normal, _ = anomaly_scores()
    mean, sigma = rng.uniform(-5, -2), rng.uniform(0.3, 1.0)
    cases = [
        (0.1, 0.9),
        (0.05, 0.95),
        (float(rng.uniform(0.01, 0.2)), float(rng.choice([0.9, 0.95, 0.99]))),
    ]
    few_rate, few_confidence = float(rng.uniform(0.02, 0.1)), 0.95
    return {
        # exact cases: the rank of the bound on scores of several shapes
        "exact0": rng.permutation(np.arange(1, 101) / 100),
        "exact1": rng.lognormal(-4.0, 0.7, int(rng.integers(500, 1500))),
        "exact2": rng.exponential(1.0, int(rng.integers(200, 400))),
        "exact_cases": np.asarray(cases),
        "few": rng.random(too_few(few_rate, few_confidence)),
        "few_case": np.asarray([few_rate, few_confidence]),
        # the grader's scores of normal digits: a validation set (the rest is held out by the judge)
        "validation": normal[rng.choice(len(normal), N_VALIDATION, replace=False)],
        "rates": np.asarray([0.01, 0.05, rng.uniform(0.02, 0.1)]),
        # many validation sets of a known distribution: how often does the threshold exceed α?
        "lognormal": np.asarray([mean, sigma]),
        "sets": rng.lognormal(mean, sigma, (N_SETS, N_SET)),
        "sets_case": np.asarray([rng.uniform(0.02, 0.1), 0.95]),
    }


TASK4_PROBE = """
for i, (rate, confidence) in enumerate(inputs["exact_cases"]):
    attempt(f"exact{i}", anomaly_threshold, inputs[f"exact{i}"], float(rate), float(confidence))
attempt("few", anomaly_threshold, inputs["few"], *map(float, inputs["few_case"]))
for i, rate in enumerate(inputs["rates"]):
    attempt(f"digits{i}", anomaly_threshold, inputs["validation"], float(rate), 0.95)
rate, confidence = map(float, inputs["sets_case"])
for i, scores in enumerate(inputs["sets"]):
    attempt(f"set{i}", anomaly_threshold, scores, rate, confidence)
"""


def check_task4_threshold_rank(values, inputs):
    for i, (rate, confidence) in enumerate(inputs["task4.exact_cases"]):
        scores = inputs[f"task4.exact{i}"]
        call = f"anomaly_threshold(scores of {len(scores)} inputs, {rate:.3f}, {confidence:g})"
        t = _scalar(values, f"task4.exact{i}", call)
        k = bound_rank(len(scores), rate, confidence)
        expected = float(np.sort(scores)[k - 1])
        if t != expected:
            rank = int(np.searchsorted(np.sort(scores), t)) + 1
            quantile = float(np.quantile(scores, 1 - rate))
            raise AssertionError(
                f"{call}: expected a_(k) with k = {k}, the smallest k with P(B <= k - 1) >= {confidence:g} for "
                f"B ~ Binomial({len(scores)}, {1 - rate:.3f}), i.e. {expected:.6g}; got {t:.6g}"
                + (
                    f" (the score of rank {rank})"
                    if np.isin(t, scores)
                    else " (not one of the scores)"
                )
                + (
                    ": that is the (1 - α)-quantile, whose false-positive rate exceeds α about half the time"
                    if np.isclose(t, quantile)
                    else ""
                )
            )
    rate, confidence = map(float, inputs["task4.few_case"])
    n = len(inputs["task4.few"])
    error = values.get("task4.few.error")
    assert error is not None and str(error).startswith("ValueError"), (
        f"anomaly_threshold({n} scores, {rate:.3f}, {confidence:g}): no score gives the guarantee "
        f"((1 - α)**n = {(1 - rate) ** n:.3f} > 1 - {confidence:g}): expected a ValueError; got "
        + (str(error) if error is not None else repr(values.get("task4.few")))
    )


def _tolerance(rate, n):
    """Four standard deviations of a fraction `rate` counted over n draws, plus 1/n."""
    return 4 * np.sqrt(rate * (1 - rate) / n) + 1 / n


def check_task4_held_out(values, inputs):
    from scipy import stats

    rate, confidence = map(float, inputs["task4.sets_case"])
    mean, sigma = inputs["task4.lognormal"]
    thresholds = np.array(
        [
            _scalar(values, f"task4.set{i}", f"anomaly_threshold(scores of set {i})")
            for i in range(N_SETS)
        ]
    )
    # the false-positive rate of each threshold, exactly: the lognormal's upper tail above it
    fprs = stats.norm.sf((np.log(np.maximum(thresholds, 1e-300)) - mean) / sigma)
    exceed = float(np.mean(fprs > rate))
    allowed = (1 - confidence) + _tolerance(1 - confidence, N_SETS)
    assert exceed <= allowed, (
        f"On {N_SETS} validation sets of {N_SET} scores of one distribution, with α = {rate:.3f} and confidence "
        f"{confidence:g}, your threshold's false-positive rate exceeded α in {exceed:.1%} of the sets; expected "
        f"at most about {1 - confidence:.0%} (<= {allowed:.1%})"
    )
    normal, anomalous = anomaly_scores()
    validation = inputs["task4.validation"]
    held_out = normal[~np.isin(normal, validation)]
    for i, rate in enumerate(inputs["task4.rates"]):
        rate = float(rate)
        call = f"anomaly_threshold(the grader's {len(validation)} scores of normal digits, {rate:.3f}, 0.95)"
        t = _scalar(values, f"task4.digits{i}", call)
        false_positives = float(np.mean(held_out > t))
        tolerance = _tolerance(rate, len(held_out))
        assert false_positives <= rate + tolerance, (
            f"{call}: on {len(held_out)} other normal digits your notebook never had, expected a false-positive "
            f"rate of at most α = {rate:.3f} (<= {rate + tolerance:.4f}); got {false_positives:.4f} (threshold {t:.4g})"
        )
        reference = bound_threshold(validation, rate, 0.95)
        recall, expected = float(np.mean(anomalous > t)), float(np.mean(anomalous > reference))
        assert recall >= expected - 0.02, (
            f"{call}: on {len(anomalous)} Fashion-MNIST images your notebook never had, expected a recall of at "
            f"least {expected - 0.02:.3f} (that of the bound's threshold, less 0.02); got {recall:.3f}"
        )


STEPS = [
    numpy_step("task1", TASK1_PROBE, "task1_salt_and_pepper", task1_inputs, wall_s=60),
    numpy_step("task2", TASK2_PROBE, "task2_psnr_solution", task2_inputs),
    # Task 4 calls the function about 300 times (300 validation sets)
    numpy_step("task4", TASK4_PROBE, "task4_anomaly_threshold", task4_inputs, wall_s=120),
    Step(
        "notebook",
        SAVE_PROBE,
        preload=PRELOAD,
        cells=None,
        keep=["dae.keras"],
        data=DATASETS,
        wall_s=300,
    ),
    # No student code: the saved model loaded safely and measured on the grader's noisy images.
    Step(
        "evaluate",
        EVALUATE_PROBE,
        preload=PRELOAD,
        cells=[],
        carry=["dae.keras"],
        inputs=evaluate_inputs,
        wall_s=120,
    ),
]
check_task1_shape_and_values.steps = check_task1_statistics.steps = ["task1"]
check_task2_psnr.steps = ["task2"]
check_task3_denoises.steps = check_task3_beats_plain.steps = ["notebook", "evaluate"]
check_task4_threshold_rank.steps = check_task4_held_out.steps = ["task4"]
CHECKS = {
    "task1_shape_and_values": check_task1_shape_and_values,
    "task1_statistics": check_task1_statistics,
    "task2_psnr": check_task2_psnr,
    "task3_denoises": check_task3_denoises,
    "task3_beats_plain": check_task3_beats_plain,
    "task4_threshold_rank": check_task4_threshold_rank,
    "task4_held_out": check_task4_held_out,
}
