"""``plot RUN_DIR``: the curves the R1 paper watched, from ``RUN_DIR/metrics.jsonl``, as one PNG.

Panels: the reward and each service component (accuracy, format, language, ...), mean completion length,
the reflection-phrase rate (the "aha moment"), and the share of completions the service could not score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.metrics import read_metrics

NOT_COMPONENTS = {"service/unscored_frac", "service/wait_s"}


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), int | float)]
    return [p[0] for p in points], [p[1] for p in points]


def components(rows: list[dict[str, Any]]) -> list[str]:
    names = {k for r in rows for k in r if k.startswith("service/") and k not in NOT_COMPONENTS}
    return sorted(names)


def _style(index: int, count: int) -> dict[str, Any]:
    """The first curve of a panel wide and pale, the others thin with their own dash pattern."""
    if count == 1:
        return {"linewidth": 1.5}
    if index == 0:
        return {"linewidth": 6, "alpha": 0.35, "zorder": 1}
    return {"linewidth": 1.3, "linestyle": ["-", "--", ":", "-."][(index - 1) % 4], "zorder": 2}


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the PNG (default ``RUN_DIR/curves.png``) and return its path."""
    rows = read_metrics(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}: metrics.jsonl has no training steps")
    out = Path(out or Path(run_dir) / "curves.png")
    fig = figure(rows, str(run_dir))
    import matplotlib.pyplot as plt
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def figure(rows: list[dict[str, Any]], title: str) -> Any:
    """The four panels of a run's metrics (a matplotlib figure)."""
    try:
        import matplotlib
    except ImportError:
        raise ValueError('plotting needs matplotlib: pip install -e ".[trainer]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    panels = [
        (axes[0][0], "reward and components", ["reward", *components(rows)], False),
        (axes[0][1], "completion length (tokens)", ["completions/mean_length"], False),
        (axes[1][0], "reflection rate (\"wait\", \"let me check\", ...)", ["reflection_rate"], True),
        (axes[1][1], "unscored fraction (service could not score)", ["service/unscored_frac"], True),
    ]
    for ax, name, keys, share in panels:
        for i, key in enumerate(keys):
            steps, values = _series(rows, key)
            if steps:  # the reward as a wide band under thin component lines: equal curves stay visible
                ax.plot(steps, values, label=key.removeprefix("service/"), **_style(i, len(keys)))
        ax.set_title(name)
        if share:
            ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize="small")
    for ax in axes[1]:
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
