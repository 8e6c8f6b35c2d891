"""Training recipes: the learning-rate schedule and optimizer of the benchmarks and full runs.

The lectures' default runs are short (a few epochs of Adam with a cosine
decay). Long runs (`AEKERAS_FULL_RUN=1`, `python -m aekeras_tools.hinton2006`) use the
recipe measured in `benchmarks/results/`: AdamW with a linear warm-up, a
cosine decay to zero and decoupled weight decay, so that many more updates
do not overfit.
"""

import keras

from aekeras.validation import validate_float_arg
from aekeras.validation import validate_int_arg


def warmup_cosine(learning_rate, total_steps, warmup_steps=0):
    """Learning rate per step: linear warm-up from 0, then a cosine decay to 0.

    Without warm-up this is `keras.optimizers.schedules.CosineDecay`
    starting at `learning_rate`. With `warmup_steps > 0` the rate rises
    linearly from 0 to `learning_rate` over `warmup_steps` steps, then
    decays along a cosine over the remaining `total_steps - warmup_steps`.

    Args:
        learning_rate: Float > 0, the peak learning rate.
        total_steps: Int >= 1, the number of optimizer steps of the run.
        warmup_steps: Int, 0 <= warmup_steps < total_steps.

    Returns:
        A `keras.optimizers.schedules.CosineDecay`.

    Example:

    >>> import aekeras
    >>> lr = aekeras.optimizers.warmup_cosine(1e-3, total_steps=100, warmup_steps=10)
    >>> [round(float(lr(step)), 6) for step in (0, 5, 10, 55, 100)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    """
    learning_rate = validate_float_arg(
        learning_rate, "learning_rate", min_value=0.0, min_inclusive=False
    )
    total_steps = validate_int_arg(total_steps, "total_steps", min_value=1)
    warmup_steps = validate_int_arg(
        warmup_steps, "warmup_steps", min_value=0, max_value=total_steps - 1
    )
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=total_steps - warmup_steps,
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
        alpha=0.0,
    )


def adamw_recipe(
    epochs,
    steps_per_epoch,
    learning_rate=1e-3,
    weight_decay=0.1,
    warmup_epochs=2,
    ema_momentum=None,
):
    """AdamW with warm-up, cosine decay and weight decay: the benchmarks' recipe.

    The warm-up lasts `warmup_epochs` epochs, at most a tenth of the run.
    Weight decay is decoupled from the gradient (Loshchilov & Hutter, 2019):
    each step shrinks every weight by `learning_rate(step) * weight_decay`
    times itself. With `ema_momentum`, the evaluated weights are an
    exponential moving average of the trained ones (`model.fit` swaps them in
    at the end of training).

    Args:
        epochs: Int >= 1, number of epochs of the run.
        steps_per_epoch: Int >= 1, batches per epoch
            (`ceil(n_examples / batch_size)`).
        learning_rate: Float > 0, peak learning rate.
        weight_decay: Float >= 0.
        warmup_epochs: Int >= 0.
        ema_momentum: Optional float in (0, 1); `None` disables the average.

    Returns:
        A `keras.optimizers.AdamW`.

    Example:

    >>> import aekeras
    >>> opt = aekeras.optimizers.adamw_recipe(epochs=20, steps_per_epoch=50)
    >>> opt.weight_decay, float(opt.learning_rate)  # the warm-up starts at 0
    (0.1, 0.0)

    Reference:
    - [Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101)
    """
    epochs = validate_int_arg(epochs, "epochs", min_value=1)
    steps_per_epoch = validate_int_arg(steps_per_epoch, "steps_per_epoch", min_value=1)
    learning_rate = validate_float_arg(
        learning_rate, "learning_rate", min_value=0.0, min_inclusive=False
    )
    weight_decay = validate_float_arg(weight_decay, "weight_decay", min_value=0.0)
    warmup_epochs = validate_int_arg(warmup_epochs, "warmup_epochs", min_value=0)
    if ema_momentum is not None:
        ema_momentum = validate_float_arg(
            ema_momentum,
            "ema_momentum",
            min_value=0.0,
            max_value=1.0,
            min_inclusive=False,
            max_inclusive=False,
        )
    total = epochs * steps_per_epoch
    warmup = min(warmup_epochs * steps_per_epoch, total // 10)
    return keras.optimizers.AdamW(
        learning_rate=warmup_cosine(learning_rate, total, warmup),
        weight_decay=weight_decay,
        use_ema=ema_momentum is not None,
        ema_momentum=0.99 if ema_momentum is None else ema_momentum,
    )
