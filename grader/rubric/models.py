"""The rubric: what an instructor writes, as strict, frozen pydantic models.

A rubric declares *problems* by kind with their parameters (plain data, so a later
version can draw them per student) and the *answers* to grade: an id, which quantity of
which problem it asks for, points, a tolerance and a partial-credit rule. Reading a file
is ``grader.rubric.load.load_rubric``; this module is only the shape of the data.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from grader.rubric.activations import ACTIVATIONS, LOSSES
from grader.rubric.variants import Variants

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- tolerances ---------------------------------------------------------------------


class RelativeTolerance(_Strict):
    """Accept ``|answer − expected| ≤ atol + rtol·|expected|`` (relative to the expected value)."""

    mode: Literal["relative"] = "relative"
    rtol: float = Field(0.02, ge=0, description="Relative tolerance, a fraction of |expected|.")
    atol: float = Field(0.0, ge=0, description="Absolute tolerance, added to the relative one.")


class SigFigsTolerance(_Strict):
    """Accept what rounds like the expected value to ``digits`` significant figures.

    Interval: ``|answer − expected| ≤ max(½·10^(⌊log10|expected|⌋ − digits + 1), atol)``
    (expected = 0: ``≤ atol``, so only 0 when atol is 0).
    """

    mode: Literal["sigfigs"]
    digits: int = Field(ge=1, le=15, description="Significant figures the answer must match.")
    atol: float = Field(
        0.0,
        ge=0,
        description="Absolute tolerance: an answer within atol of the expected value is "
        "accepted whatever the figures (the accepted half-width is the larger of the two).",
    )


class DecimalsTolerance(_Strict):
    """Accept what matches the expected value to ``places`` decimal places.

    Interval: ``|answer − expected| ≤ max(½·10^(−places), atol)``.
    """

    mode: Literal["decimals"]
    places: int = Field(ge=0, le=15, description="Decimal places the answer must match.")
    atol: float = Field(
        0.0,
        ge=0,
        description="Absolute tolerance: an answer within atol of the expected value is "
        "accepted whatever the places (the accepted half-width is the larger of the two).",
    )


Tolerance = Annotated[
    RelativeTolerance | SigFigsTolerance | DecimalsTolerance, Field(discriminator="mode")
]

PartialCredit = Literal["per_entry", "all_or_nothing"]
"""``per_entry``: a vector or matrix earns points × (share of entries right)."""

DiagnosisCode = Literal[
    "sign_flip",
    "power_of_ten",
    "transposed",
    "factor_two",
    "missing_bias",
    "wrong_derivative",
    "other_answer",
    "too_coarse",
    "weights_transposed",
    "step_uphill",
    "no_step",
    "mean_for_sum",
    "learning_rate",
    "misordered",
    "sum_for_mean",
    "constant_multiple",
    "missing_input_factor",
    "preactivation_for_activation",
    "wrong_point",
    "chain_order",
]


class Grading(_Strict):
    """How answers are scored; set once in ``defaults`` and overridden per answer."""

    tolerance: Tolerance = Field(
        default_factory=RelativeTolerance, description="How close a number must be."
    )
    partial_credit: PartialCredit = Field(
        "per_entry", description="Credit vectors and matrices entry by entry, or all or nothing."
    )
    carried_forward: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the points for an answer that is wrong but right given the "
        "student's own earlier answers (error carried forward).",
    )
    diagnosis_credit: dict[DiagnosisCode, float] = Field(
        default_factory=dict,
        description="Share of the points a recognised mistake still earns (default none).",
    )


class GradingOverride(_Strict):
    """Per-answer overrides of ``defaults``; what is left out is inherited."""

    tolerance: Tolerance | None = None
    partial_credit: PartialCredit | None = None
    carried_forward: float | None = Field(None, ge=0, le=1)
    diagnosis_credit: dict[DiagnosisCode, float] | None = None


# --- problems -----------------------------------------------------------------------


class Example(_Strict):
    """One training example: inputs ``x`` and target ``y``."""

    x: list[float] = Field(description="The example's inputs, one per input unit.")
    y: float | list[float] = Field(
        description="The target: a number (one output unit), a class 1..K (K output "
        "units: the one-hot vector of that class), or a vector of K targets."
    )


class Loss(_Strict):
    """The loss per example: squared ``c·Σ_k (ŷ_k − y_k)²`` (``c = ½`` when ``half``), or
    cross-entropy (with a softmax output, or one sigmoid output)."""

    kind: str = Field(
        "squared",
        description="A loss of grader.rubric.activations.LOSSES: squared or cross_entropy.",
        json_schema_extra={"enum": list[JsonValue](sorted(LOSSES))},
    )
    half: bool = Field(False, description="Squared loss only: use ½(ŷ − y)² instead of (ŷ − y)².")

    @field_validator("kind")
    @classmethod
    def _known_loss(cls, kind: str) -> str:
        if kind not in LOSSES:
            raise ValueError(f"unknown loss {kind!r} (losses: {', '.join(LOSSES)})")
        return kind


class Layer(_Strict):
    """One layer of a network given layer by layer: a_l = W·[1; h_(l−1)], h_l = act(a_l)."""

    units: int = Field(ge=1, description="Number of units of the layer.")
    activation: str = Field(
        description="A name of grader.rubric.activations.ACTIVATIONS (sigmoid, tanh, relu, "
        "linear; softmax on the output layer only).",
        json_schema_extra={"enum": list[JsonValue](sorted(ACTIVATIONS))},
    )
    W: list[list[float]] = Field(
        description="Weights, shape (units, units of the layer below + 1): row j is "
        "(w_j0 bias, w_j1, ...)."
    )

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, name: str) -> str:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r} (activations: {', '.join(ACTIVATIONS)})")
        return name


class Training(_Strict):
    """Full-batch gradient descent from the given weights (the *_after quantities)."""

    learning_rate: float = Field(gt=0, description="The step size η.")
    steps: int = Field(1, ge=1, le=1000, description="How many steps are taken.")
    batch: Literal["sum", "mean"] = Field(
        "sum", description="Step along the sum or the mean of the per-example gradients."
    )


class NetworkProblem(_Strict):
    """A feedforward network: given layer by layer (``layers``), or in the one-hidden-layer
    shorthand (``hidden``, ``output``, ``W``, ``v``), which means the layers
    [{units: hidden, activation: sigmoid, W: W}, {units: 1, activation: output, W: [v]}].

    Layer l: ``a_l = W_l·[1; h_(l−1)]``, ``h_l = act_l(a_l)``, ``h_0 = x``, ``ŷ = h_L``.
    """

    kind: Literal["network"]
    inputs: int = Field(ge=1, description="Number of inputs per example.")
    layers: list[Layer] | None = Field(
        None, min_length=1, description="The layers from the input to the output."
    )
    hidden: int | None = Field(None, ge=1, description="Shorthand: number of hidden sigmoid units.")
    output: Literal["linear", "sigmoid"] | None = Field(
        None, description="Shorthand: the output activation (default linear)."
    )
    W: list[list[float]] | None = Field(
        None,
        description="Shorthand: hidden weights, shape (hidden, inputs + 1): row j is "
        "(w_j0 bias, w_j1, ..., w_jn).",
    )
    v: list[float] | None = Field(
        None, description="Shorthand: output weights (v0 bias, v1, ..., v_hidden)."
    )
    loss: Loss = Field(default_factory=Loss, description="The loss per example.")
    examples: list[Example] = Field(min_length=1, description="The training examples.")
    training: Training | None = Field(
        None, description="Gradient descent from the given weights (for W_after, loss_after)."
    )

    @property
    def shorthand(self) -> bool:
        """Is the network given in the one-hidden-layer shorthand?"""
        return self.layers is None


class FunctionDef(_Strict):
    """A function written as expressions in its declared variables."""

    variables: list[str] = Field(min_length=1, description="Variable names, in argument order.")
    expr: str | list[str] = Field(
        description="One expression (scalar-valued) or a list (vector-valued)."
    )


class FunctionsProblem(_Strict):
    """Functions to differentiate, written in the project's safe expression grammar."""

    kind: Literal["functions"]
    functions: dict[str, FunctionDef] = Field(min_length=1, description="Functions by name.")


Problem = Annotated[NetworkProblem | FunctionsProblem, Field(discriminator="kind")]


# --- answers ------------------------------------------------------------------------

ExampleSelector = int | Literal["all", "sum", "mean"]

NetworkQuantity = Literal[
    "yhat",
    "dL_dyhat",
    "loss",
    "hidden",
    "dv",
    "dW",
    "preactivation",
    "activation",
    "delta",
    "W_after",
    "v_after",
    "loss_after",
]
"""The quantities of a network problem (README's rubric reference gives each its shape)."""


class _AnswerBase(_Strict):
    id: str = Field(min_length=1, description="The answer id students use in their files.")
    problem: str = Field(description="Name of the problem this answer belongs to.")
    points: float = Field(ge=0, description="Points this answer is worth.")
    grading: GradingOverride = Field(
        default_factory=GradingOverride, description="Overrides of the rubric's defaults."
    )
    title: str | None = Field(None, description="Short description shown in feedback.")
    entries: list[str] | None = Field(
        None,
        min_length=1,
        description="The names of the answer's entries, row by row, as the homework writes "
        "them (e.g. ['∂L/∂v0', '∂L/∂v1']); feedback names entries by them. Default: the "
        "homework's notation for the quantity (∂L/∂w₁₂, example 2, ∂F₁/∂y).",
    )
    hint: str | None = Field(
        None,
        min_length=1,
        description="A sentence (or a link to lecture notes) shown with a wrong answer.",
    )


class NetworkAnswer(_AnswerBase):
    """A quantity of a network problem, for one example, all examples, or their sum/mean."""

    quantity: NetworkQuantity
    example: ExampleSelector | None = Field(
        None,
        description="1-based example number; 'all' stacks the examples; 'sum' or 'mean' "
        "combines them (the batch gradient). Required but for W_after and v_after.",
    )
    layer: int | None = Field(
        None,
        ge=1,
        description="The layer (1 = the first above the input) of preactivation, "
        "activation, delta, dW and W_after.",
    )


class GradientAnswer(_AnswerBase):
    """The gradient of a scalar function, as expressions in its variables."""

    quantity: Literal["gradient"]
    function: str


class JacobianAnswer(_AnswerBase):
    """The Jacobian (or gradient, for a scalar function) at a point."""

    quantity: Literal["jacobian"]
    function: str
    at: list[float]


class HessianAnswer(_AnswerBase):
    """The Hessian of a scalar function at a point: shape (n, n), entry (i, j) =
    ∂²f/∂x_i∂x_j for the variables in their declared order."""

    quantity: Literal["hessian"]
    function: str
    at: list[float]


class ValueAnswer(_AnswerBase):
    """A function's value at a point."""

    quantity: Literal["value"]
    function: str
    at: list[float]


class CompositionAnswer(_AnswerBase):
    """D(outer∘inner) at a point, by the chain rule."""

    quantity: Literal["composition_derivative"]
    outer: str
    inner: str
    at: list[float]


Answer = Annotated[
    NetworkAnswer
    | GradientAnswer
    | JacobianAnswer
    | HessianAnswer
    | ValueAnswer
    | CompositionAnswer,
    Field(discriminator="quantity"),
]


class FeedbackOptions(_Strict):
    """What students see in their feedback."""

    show_expected: bool = Field(
        False, description="Show the expected values in feedback (off: students see it)."
    )


class Rubric(_Strict):
    """A homework's rubric: its problems and the answers to grade."""

    schema_version: Literal[1] = Field(description="Version of this rubric format; 1.")
    title: str = Field(min_length=1)
    problems: dict[str, Problem] = Field(min_length=1)
    answers: list[Answer] = Field(min_length=1)
    defaults: Grading = Field(default_factory=Grading)
    feedback: FeedbackOptions = Field(default_factory=FeedbackOptions)
    variants: Variants | None = Field(
        None,
        description="Parameters drawn per student (each student grades against their own "
        "variant); without it every student has the rubric's own numbers.",
    )

    @property
    def max_score(self) -> float:
        return float(sum(answer.points for answer in self.answers))

    def grading_for(self, answer: _AnswerBase) -> Grading:
        """The answer's effective grading: the defaults with its overrides applied."""
        overrides = {
            name: value
            for name in GradingOverride.model_fields
            if (value := getattr(answer.grading, name)) is not None
        }
        if not overrides:
            return self.defaults
        return self.defaults.model_copy(update=overrides)

    def answer(self, answer_id: str) -> Answer:
        for candidate in self.answers:
            if candidate.id == answer_id:
                return candidate
        raise KeyError(answer_id)
