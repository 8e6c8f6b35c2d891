"""Wrong answers lose points under both graders: every autograded task, tried with plausible wrong answers.

Each mutation replaces one answer cell of a student's correct notebook with a wrong answer: a shortcut that
a student gaming the grader might take (calling the library in a "write it in NumPy" task, a design that
only a longer training makes look good, a baseline overwritten) or an honest mistake (an uncentred PCA, the
reversed KL divergence, salt-only noise, the PSNR of the mean MSE, modifying the input in place, ...). The
same mutated notebooks are graded by plain `nbgrader autograde` (whose hidden tests call the judges in the
kernel) and by the class grader's command (`python3 tasks.py grade`, sandboxes); under both, each mutation
must lose the points of the test cells it names, with a message that says what was wrong. This list is the
one list of wrong answers: the class grader's judges and the hidden tests are the same functions.

What the judges do not grade, by design, is how a model was trained: the grader measures a trained model on
images the notebook never had, or trains the student's design or configuration itself with its own budget,
so training longer or on other images buys nothing and is not a mutation here.

To keep the run short, mutations are batched: submission i of an assignment holds the i-th mutation of every
task at once (the tasks are graded independently), so an assignment with at most four mutations per task is
graded four times by each grader. Mutations of training tasks train for one epoch or with large batches where
their judges fail whatever the training.
"""

import nbformat
import pytest

from grading_course import copy_course
from grading_course import grade_command
from grading_course import require_sandbox
from grading_course import results
from grading_course import student_version
from nbgrader_course import ASSIGNMENTS
from nbgrader_course import Course
from nbgrader_course import error_text
from nbgrader_course import grade_id
from nbgrader_course import is_autograder_test
from nbgrader_course import notebook_names
from nbgrader_course import source_notebook

# Notebook execution: run once, on the default TensorFlow backend (tasks.py test).
pytestmark = pytest.mark.tensorflow_only

KL_AE = """
sparse_ae = aekeras.models.DenseAutoencoder(
    (28, 28, 1), hidden_units=(), code_dim=CODE_DIM, code_activation="sigmoid",
    sparsity=aekeras.KLSparsity(target=0.05, strength={strength}),
)
sparse_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
"""
DAE = """
dae = aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM)
dae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
"""
LIBRARY = "aekeras is not available in this task"  # a NumPy-only task that calls the library, either grader

# assignment -> solution cell -> [(mutation, new source of the cell, {test cell: message it must show})].
# A message of None: the cell must lose its points, whatever it says; a pair: (nbgrader's message, the
# class grader's), where nbgrader runs the cell's visible check first and it fails before the judge.
MUTATIONS = {
    "a1_autoencoders": {
        "task1_pca_reconstruct": [
            (
                "calls aekeras.PCA",
                """
def pca_reconstruct(x_fit, x, k):
    return aekeras.PCA(k).fit(x_fit).reconstruct(x)
""",
                {"task1_shape_exact": LIBRARY, "task1_matches_library": LIBRARY},
            ),
            (
                "calls scikit-learn's PCA",
                """
from sklearn.decomposition import PCA as SkPCA


def pca_reconstruct(x_fit, x, k):
    flat_fit = np.asarray(x_fit, dtype=np.float64).reshape(len(x_fit), -1)
    pca = SkPCA(k, svd_solver="full").fit(flat_fit)
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return pca.inverse_transform(pca.transform(flat)).reshape(np.shape(x))
""",
                {
                    "task1_shape_exact": "sklearn is not available in this task",
                    "task1_matches_library": "sklearn is not available in this task",
                },
            ),
            (
                "uncentred PCA",
                """
def pca_reconstruct(x_fit, x, k):
    fit = np.asarray(x_fit, dtype=np.float64).reshape(len(x_fit), -1)
    u = np.linalg.svd(fit, full_matrices=False)[2][:k].T
    return (np.asarray(x, dtype=np.float64).reshape(len(x), -1) @ u @ u.T).reshape(np.shape(x))
""",
                {
                    "task1_shape_exact": "Did you centre",
                    "task1_matches_library": "centred with the mean of x_fit",
                },
            ),
            (
                "the k smallest components",
                """
def pca_reconstruct(x_fit, x, k):
    fit = np.asarray(x_fit, dtype=np.float64).reshape(len(x_fit), -1)
    mean = fit.mean(axis=0)
    u = np.linalg.svd(fit - mean, full_matrices=False)[2][-k:].T
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return (mean + (flat - mean) @ u @ u.T).reshape(np.shape(x))
""",
                {"task1_matches_library": "largest variance"},
            ),
        ],
        "task2_n_parameters_solution": [
            (
                "no decoder biases",
                """
def n_parameters(layer_sizes, tied_weights=False):
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    return (1 if tied_weights else 2) * sum(a * b for a, b in pairs) + sum(b for _, b in pairs)
""",
                {
                    "task2_n_parameters": "n_parameters([784, 1000, 500, 250, 30], tied_weights=False): expected"
                },
            ),
            (
                "tied weights still counted twice",
                """
def n_parameters(layer_sizes, tied_weights=False):
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    return 2 * sum(a * b for a, b in pairs) + sum(b for _, b in pairs) + sum(a for a, _ in pairs)
""",
                {"task2_n_parameters": "tied_weights=True): expected"},
            ),
            (
                "builds the model and counts its weights",
                """
def n_parameters(layer_sizes, tied_weights=False):
    model = aekeras.models.deep_autoencoder(list(layer_sizes), tied_weights=tied_weights)
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))
""",
                {"task2_n_parameters": LIBRARY},
            ),
        ],
        "task3_autoencoder": [
            (
                "shallow: no hidden layer",
                """
def build_autoencoder():
    return aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(), code_dim=CODE_DIM)
""",
                {"task3_architecture": "at least one hidden layer"},
            ),
            (
                "the lecture's 784-256-8, over the budget",
                """
def build_autoencoder():
    return aekeras.deep_autoencoder(f"784-256-{CODE_DIM}", input_shape=(28, 28, 1))
""",
                {
                    "task3_architecture": "trainable parameters; the budget is MAX_PARAMETERS = 80000"
                },
            ),
            (
                "untied 784-48-8: within the budget, short of the margin over PCA",
                """
def build_autoencoder():
    return aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(48,), code_dim=CODE_DIM)
""",
                {"task3_beats_pca": "at most 0.8 times"},
            ),
            (
                "a Lambda layer the grader cannot rebuild",
                """
def build_autoencoder():
    x = keras.Input((28, 28, 1))
    encoder = keras.Sequential([x, keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"),
                                keras.layers.Dense(CODE_DIM)])
    z = keras.Input((CODE_DIM,))
    h = keras.layers.Dense(784, activation="sigmoid")(keras.layers.Dense(32, activation="relu")(z))
    x_hat = keras.layers.Lambda(lambda t: keras.ops.reshape(t, (-1, 28, 28, 1)))(h)
    return aekeras.models.Autoencoder(encoder, keras.Model(z, x_hat))
""",
                {"task3_architecture": "Keras' own layers"},
            ),
            (
                "too narrow (a 2-unit hidden layer), pretrained past the budget, baseline overwritten",
                """
def build_autoencoder():
    return aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(256, 2), code_dim=CODE_DIM)


_pretrained = build_autoencoder()
_pretrained.compile(optimizer="adam", loss="binary_crossentropy")
_pretrained.fit(np.concatenate([x_train, x_test]), epochs=2 * EPOCHS, batch_size=1024, verbose=0)
build_autoencoder = lambda: _pretrained  # noqa: E731
pca_error = float("inf")
""",
                {"task3_beats_pca": "retrained by the grader"},
            ),
        ],
    },
    "a2_sparse": {
        "task1_l1_sparsity": [
            (
                "no absolute value",
                """
def l1_sparsity(h, strength):
    return float(strength * np.mean(np.sum(np.asarray(h, dtype=np.float64), axis=1)))
""",
                {
                    "task1_l1_properties": "Take the absolute value",
                    "task1_l1_matches_library": "expected",
                },
            ),
            (
                "sums over the batch",
                """
def l1_sparsity(h, strength):
    return float(strength * np.sum(np.abs(np.asarray(h, dtype=np.float64))))
""",
                {
                    "task1_l1_properties": "Average over the examples",
                    "task1_l1_matches_library": "expected",
                },
            ),
            (
                "calls aekeras.L1Sparsity",
                """
def l1_sparsity(h, strength):
    return float(aekeras.L1Sparsity(strength)(np.asarray(h, dtype="float64")))
""",
                {"task1_l1_properties": None, "task1_l1_matches_library": LIBRARY},
            ),
            (
                "averages over the units too",
                """
def l1_sparsity(h, strength):
    return float(strength * np.mean(np.abs(np.asarray(h, dtype=np.float64))))
""",
                {
                    "task1_l1_properties": "sum over the units",
                    "task1_l1_matches_library": "expected",
                },
            ),
        ],
        "task2_kl_sparsity": [
            (
                "KL(ρ̂ ‖ ρ) reversed",
                """
def kl_sparsity(h, target, strength):
    rho_hat = np.mean(np.asarray(h, dtype=np.float64), axis=0)
    rho = target
    kl = rho_hat * np.log(rho_hat / rho) + (1 - rho_hat) * np.log((1 - rho_hat) / (1 - rho))
    return float(strength * np.sum(kl))
""",
                {
                    "task2_kl_properties": "the arguments are swapped",
                    "task2_kl_matches_library": "expected",
                },
            ),
            (
                "calls aekeras.KLSparsity",
                """
def kl_sparsity(h, target, strength):
    return float(aekeras.KLSparsity(target=target, strength=strength)(np.asarray(h, dtype="float64")))
""",
                {"task2_kl_properties": None, "task2_kl_matches_library": LIBRARY},
            ),
            (
                "averages the KL terms over the units",
                """
def kl_sparsity(h, target, strength):
    rho_hat = np.mean(np.asarray(h, dtype=np.float64), axis=0)
    kl = target * np.log(target / rho_hat) + (1 - target) * np.log((1 - target) / (1 - rho_hat))
    return float(strength * np.mean(kl))
""",
                {"task2_kl_matches_library": "summed over the units"},
            ),
            (
                "mean activation over the wrong axis",
                """
def kl_sparsity(h, target, strength):
    rho_hat = np.mean(np.asarray(h, dtype=np.float64), axis=1)
    kl = target * np.log(target / rho_hat) + (1 - target) * np.log((1 - target) / (1 - rho_hat))
    return float(strength * np.sum(kl))
""",
                {"task2_kl_matches_library": "the mean of unit j over the examples (axis 0)"},
            ),
        ],
        "task3_kl_gradient_solution": [
            (
                "Lecture 2's slope -ρ/ρ̂ + (1-ρ)/(1-ρ̂), without the chain rule",
                """
def kl_gradient(z, target, strength):
    h = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
    rho_hat = h.mean(axis=0)
    return strength * np.broadcast_to(-target / rho_hat + (1 - target) / (1 - rho_hat), h.shape)
""",
                {"task3_kl_gradient": "the same for every example of a unit"},
            ),
            (
                "the mean's 1/m forgotten",
                """
def kl_gradient(z, target, strength):
    h = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
    rho_hat = h.mean(axis=0)
    return strength * (-target / rho_hat + (1 - target) / (1 - rho_hat)) * h * (1 - h)
""",
                {"task3_kl_gradient": "times too large"},
            ),
            (
                "finite differences of the library's penalty",
                """
def kl_gradient(z, target, strength):
    z = np.asarray(z, dtype=np.float64)
    targets = np.broadcast_to(target, z.shape[1:])

    def omega(v):
        h = 1 / (1 + np.exp(-v))
        return sum(float(aekeras.KLSparsity(float(t), strength)(h[:, j : j + 1])) for j, t in enumerate(targets))

    grad = np.zeros(z.shape)
    for index in np.ndindex(z.shape):
        step = np.zeros(z.shape)
        step[index] = 1e-6
        grad[index] = (omega(z + step) - omega(z - step)) / 2e-6
    return grad
""",
                {"task3_kl_gradient": LIBRARY},
            ),
            (
                "a complex-step derivative in NumPy, one forward pass per entry",
                """
def kl_gradient(z, target, strength):
    z = np.asarray(z, dtype=np.float64)

    def omega(v):
        rho_hat = (1 / (1 + np.exp(-v))).mean(axis=0)
        kl = target * np.log(target / rho_hat) + (1 - target) * np.log((1 - target) / (1 - rho_hat))
        return strength * np.sum(kl)

    grad = np.zeros(z.shape)
    for index in np.ndindex(z.shape):
        v = z.astype(complex)
        v[index] += 1e-30j
        grad[index] = omega(v).imag / 1e-30
    return grad
""",
                {
                    "task3_kl_gradient": "a numerical derivative (one forward pass per entry) does not finish"
                },
            ),
        ],
        "task4_sparse_autoencoder": [
            (
                "no sparsity penalty",
                """
sparse_ae = aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(), code_dim=CODE_DIM, code_activation="sigmoid")
sparse_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
sparse_ae.fit(x_train, epochs=1, batch_size=256, verbose=0)
""",
                {"task4_sparse_codes": "Expected the KL penalty"},
            ),
            (
                "another architecture",
                """
sparse_ae = aekeras.models.DenseAutoencoder(
    (28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM, code_activation="sigmoid",
    sparsity=aekeras.KLSparsity(target=0.05, strength=0.03),
)
sparse_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
sparse_ae.fit(x_train, epochs=1, batch_size=256, verbose=0)
""",
                {"task4_sparse_codes": "Expected the dense model's architecture"},
            ),
            (
                "the KL penalty's target 0.1, not the 0.05 asked",
                """
sparse_ae = aekeras.models.DenseAutoencoder(
    (28, 28, 1), hidden_units=(), code_dim=CODE_DIM, code_activation="sigmoid",
    sparsity=aekeras.KLSparsity(target=0.1, strength=0.03),
)
sparse_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
sparse_ae.fit(x_train, epochs=1, batch_size=256, verbose=0)
""",
                {
                    "task4_sparse_codes": "Expected the KL penalty with target ρ = 0.05",
                    "task4_reconstruction": None,  # nbgrader's visible check fails first
                },
            ),
            (
                "overwrites the dense baseline",
                KL_AE.format(strength=3.0)
                + """
sparse_ae.fit(x_train, epochs=1, batch_size=256, verbose=0)
dense_error = float("inf")
""",
                {"task4_reconstruction": "retrained by the grader"},
            ),
        ],
    },
    "a3_denoising": {
        "task1_salt_and_pepper": [
            (
                "salt only",
                """
def salt_and_pepper(x, rate, rng):
    noisy = np.array(x, copy=True)
    noisy[rng.random(noisy.shape) < rate] = 1.0
    return noisy
""",
                {
                    "task1_statistics": "expected half of the corrupted values to be salt (1) and half pepper (0)"
                },
            ),
            (
                "wraps aekeras.SaltAndPepperNoise",
                """
def salt_and_pepper(x, rate, rng):
    return aekeras.SaltAndPepperNoise(rate).corrupt(x, seed=int(rng.integers(2**31)))
""",
                {"task1_shape_and_values": LIBRARY, "task1_statistics": LIBRARY},
            ),
            (
                "modifies the input in place",
                """
def salt_and_pepper(x, rate, rng):
    corrupt = rng.random(np.shape(x)) < rate
    salt = rng.random(np.shape(x)) < 0.5
    x[corrupt & salt] = 1.0
    x[corrupt & ~salt] = 0.0
    return x
""",
                {"task1_shape_and_values": "must not modify its input x"},
            ),
            (
                "re-seeds instead of using rng",
                """
def salt_and_pepper(x, rate, rng):
    own = np.random.default_rng(0)
    noisy = np.array(x, copy=True)
    corrupt = own.random(noisy.shape) < rate
    salt = own.random(noisy.shape) < 0.5
    noisy[corrupt & salt] = 1.0
    noisy[corrupt & ~salt] = 0.0
    return noisy
""",
                {"task1_statistics": "do not re-seed inside the function"},
            ),
        ],
        "task2_psnr_solution": [
            (
                "PSNR of the mean MSE",
                """
def psnr(x, x_hat):
    x, x_hat = np.asarray(x, dtype=np.float64), np.asarray(x_hat, dtype=np.float64)
    return float(10 * np.log10(1.0 / np.mean((x - x_hat) ** 2)))
""",
                {"task2_psnr": "the PSNR of the mean MSE"},
            ),
            (
                "calls aekeras.metrics.psnr",
                """
from aekeras.metrics import psnr as library_psnr


def psnr(x, x_hat):
    return library_psnr(x, x_hat)
""",
                {"task2_psnr": LIBRARY},
            ),
            (
                "sum of squared errors instead of their mean",
                """
def psnr(x, x_hat):
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    x_hat = np.asarray(x_hat, dtype=np.float64).reshape(len(x_hat), -1)
    return float(np.mean(10 * np.log10(1.0 / np.sum((x - x_hat) ** 2, axis=1))))
""",
                {"task2_psnr": "MSE = 0.01 and PSNR = 10 log10(1 / 0.01) = 20 dB"},
            ),
        ],
        "task3_denoising_autoencoder": [
            (
                "the library's corruption layer instead of the student's salt_and_pepper",
                """
dae = aekeras.models.DenseAutoencoder(
    (28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM, corruption=aekeras.SaltAndPepperNoise(NOISE_RATE, seed=0),
)
dae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
dae.fit(x_train, epochs=1, batch_size=256, verbose=0)
""",
                {
                    "task3_denoises": "corrupts its inputs with the library's layers",
                    # nbgrader: the cell's visible check (the notebook's gain) fails first
                    "task3_beats_plain": (
                        "gain at least 1.5 dB above",
                        "corrupts its inputs with the library's layers",
                    ),
                },
            ),
            (
                "a plain autoencoder: trained on clean inputs",
                DAE
                + """
dae.fit(x_train, x_train, epochs=EPOCHS, batch_size=64, verbose=0)
""",
                {"task3_beats_plain": "gain at least 1.5 dB above"},
            ),
            (
                "Keras' Gaussian noise layer in the model",
                """
inputs = keras.Input((28, 28, 1))
encoder = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(256, activation="relu"),
                            keras.layers.Dense(CODE_DIM)])
decoder = keras.Sequential([keras.Input((CODE_DIM,)), keras.layers.Dense(256, activation="relu"),
                            keras.layers.Dense(784, activation="sigmoid"), keras.layers.Reshape((28, 28, 1))])
dae = aekeras.models.Autoencoder(keras.Sequential([inputs, keras.layers.GaussianNoise(0.3), encoder]), decoder)
dae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
dae.fit(x_train, epochs=1, batch_size=256, verbose=0)
""",
                {
                    # nbgrader: the visible check knows aekeras' corruption layers only (the gain)
                    "task3_denoises": (
                        "Expected a PSNR gain of at least 6 dB",
                        "corrupts its inputs with the library's layers (GaussianNoise)",
                    ),
                    "task3_beats_plain": (
                        None,
                        "corrupts its inputs with the library's layers (GaussianNoise)",
                    ),
                },
            ),
        ],
        "task4_anomaly_threshold": [
            (
                "the (1 - α)-quantile of Lecture 3, whatever the confidence",
                """
def anomaly_threshold(normal_scores, false_positive_rate, confidence):
    return float(np.quantile(normal_scores, 1 - false_positive_rate))
""",
                {
                    "task4_threshold_rank": "expected a_(",
                    "task4_held_out": "your threshold's false-positive rate exceeded α in",
                },
            ),
            (
                "off by one: the smallest k with P(B <= k) >= confidence",
                """
import math


def anomaly_threshold(normal_scores, false_positive_rate, confidence):
    scores = np.sort(np.asarray(normal_scores, dtype=np.float64))
    n, alpha = len(scores), false_positive_rate
    j = np.arange(n + 1)
    log_pmf = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in j])
    cdf = np.cumsum(np.exp(log_pmf + j * math.log1p(-alpha) + (n - j) * math.log(alpha)))
    k = int(np.searchsorted(cdf, confidence))  # P(B <= k) >= confidence: one rank too low
    if k > n or k < 1:
        raise ValueError("too few scores")
    return float(scores[k - 1])
""",
                {"task4_threshold_rank": "expected a_("},
            ),
            (
                "scipy's binomial distribution",
                """
from scipy import stats


def anomaly_threshold(normal_scores, false_positive_rate, confidence):
    scores = np.sort(np.asarray(normal_scores, dtype=np.float64))
    n = len(scores)
    k = int(np.searchsorted(stats.binom.cdf(np.arange(n), n, 1 - false_positive_rate), confidence)) + 1
    if k > n:
        raise ValueError("too few scores")
    return float(scores[k - 1])
""",
                {
                    "task4_threshold_rank": "scipy is not available in this task",
                    "task4_held_out": "scipy is not available in this task",
                },
            ),
            (
                "the largest score, never a ValueError",
                """
def anomaly_threshold(normal_scores, false_positive_rate, confidence):
    return float(np.max(normal_scores))
""",
                {
                    "task4_threshold_rank": "expected a_(",
                    "task4_held_out": "expected a recall of at least",
                },
            ),
        ],
    },
}


def mutation_cases():
    return [
        pytest.param(grader, assignment, cell, i, id=f"{grader}-{assignment}-{cell}-{name}")
        for grader in ("nbgrader", "tasks.py grade")
        for assignment, cells in MUTATIONS.items()
        for cell, mutations in cells.items()
        for i, (name, _, _) in enumerate(mutations)
    ]


def student(i):
    return f"mutant{i + 1}"


def mutants(assignment):
    """{student: notebook}: submission i holds the i-th mutation of every task, the rest a student's
    correct answers."""
    cells = MUTATIONS[assignment]
    return {
        student(i): student_version(
            assignment, {cell: ms[i][1] for cell, ms in cells.items() if i < len(ms)}
        )
        for i in range(max(len(ms) for ms in cells.values()))
    }


@pytest.fixture(scope="module")
def nbgrader_graded(tmp_path_factory):
    """Autogrades, with nbgrader, every assignment's mutated submissions."""
    course = Course.copy(tmp_path_factory.mktemp("mutations"))
    course.nbgrader("generate_assignment", "*")
    for assignment in MUTATIONS:
        (notebook,) = notebook_names(assignment)
        for name, nb in mutants(assignment).items():
            course.submit(name, assignment, notebook, nb)
    course.nbgrader("autograde", "*")
    return course


@pytest.fixture(scope="module")
def class_graded(tmp_path_factory):
    """Grades the same submissions with the class grader's command."""
    require_sandbox()
    course = copy_course(tmp_path_factory.mktemp("mutations-class"))
    for assignment in MUTATIONS:
        for name, nb in mutants(assignment).items():
            path = course / "submitted" / name / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
    done = grade_command(course, "--workers", "2", timeout=3600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return results(course)


def outcome(request, grader, assignment, index):
    """{test cell: (points, message)} of the mutant's submission under `grader`."""
    if grader == "nbgrader":
        graded = request.getfixturevalue("nbgrader_graded")
        (notebook,) = notebook_names(assignment)
        grades = graded.grades(assignment, student(index))
        autograded = {
            grade_id(c): c for c in graded.autograded(student(index), assignment, notebook).cells
        }
        return {cell: (grades[cell][0], error_text(autograded[cell])) for cell in grades}
    result = request.getfixturevalue("class_graded")[(student(index), assignment)]
    assert "instructor-only" not in result.reason, result  # a student's own text, graded
    return {cell: (check.points, check.message) for cell, check in result.checks.items()}


def test_every_autograded_task_has_two_mutations_that_name_its_test_cells():
    for assignment in ASSIGNMENTS:
        (notebook,) = notebook_names(assignment)
        cells = source_notebook(assignment, notebook).cells
        tasks = {grade_id(c).split("_")[0] for c in cells if is_autograder_test(c)}
        solutions = {grade_id(c) for c in cells if c.metadata.get("nbgrader", {}).get("solution")}
        mutations = MUTATIONS[assignment]
        assert set(mutations) <= solutions, (
            f"{assignment}: MUTATIONS names cells that are not solution cells"
        )
        for task in tasks:
            tried = [m for cell, ms in mutations.items() if cell.startswith(f"{task}_") for m in ms]
            assert len(tried) >= 2, (
                f"{assignment}: {task} has {len(tried)} mutation(s); expected at least 2"
            )
            tests = {
                grade_id(c)
                for c in cells
                if is_autograder_test(c) and grade_id(c).startswith(f"{task}_")
            }
            for name, _, expected in tried:
                assert expected and set(expected) <= tests, (
                    f"{assignment} {name!r}: expected failures {expected}"
                )


@pytest.mark.slow
@pytest.mark.parametrize(("grader", "assignment", "cell", "index"), mutation_cases())
def test_mutation_loses_points_with_a_message_that_says_what_was_wrong(
    request, grader, assignment, cell, index
):
    name, _, expected = MUTATIONS[assignment][cell][index]
    graded = outcome(request, grader, assignment, index)
    for test_cell, message in expected.items():
        if isinstance(message, tuple):  # (nbgrader's, the class grader's)
            message = message[0] if grader == "nbgrader" else message[1]
        points, shown = graded[test_cell]
        assert points == 0, f"{name!r}: {test_cell} still scores {points} under {grader}"
        if message is not None:
            assert message in shown, (
                f"{name!r}: {test_cell} fails under {grader} without saying {message!r}; it says {shown!r}"
            )
