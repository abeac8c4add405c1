"""``python -m trainer`` (console script ``r1-trainer``): grpo, sft, sample, plot, generate.

Every training command takes ``--config run.yaml`` (see :mod:`trainer.config`) and any number of
``--set key.path=value`` overrides, e.g. ``--set training.max_steps=10 --set service.url=http://gpu-box:8000``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from trainer.config import RunConfig, load_config

MIXED_DEMO = Path(__file__).parent / "shipped_data" / "mixed_demo.jsonl"


def _config(args: argparse.Namespace, trl_config: str | None = None, *, reach: bool = False) -> RunConfig:
    """The run config; with ``reach``, its service asked whether it is there before TRL is imported (that
    takes seconds, the question one); then its ``training`` section checked against TRL's ``trl_config``."""
    cfg = load_config(args.config, args.set)
    if reach:
        from trainer.grpo import check_reachable
        check_reachable(cfg.service)
    if trl_config is not None:
        import trl

        from trainer.config import check_training
        check_training(cfg.training, getattr(trl, trl_config))
    return cfg


def cmd_grpo(args: argparse.Namespace) -> int:
    cfg = _config(args, "GRPOConfig", reach=True)
    from trainer.grpo import run_grpo
    return run_grpo(cfg)


def cmd_sft(args: argparse.Namespace) -> int:
    from trainer.sft import run_sft
    return run_sft(_config(args, "SFTConfig"))


def cmd_sample(args: argparse.Namespace) -> int:
    from trainer.sample import run_sample
    stats = run_sample(_config(args))
    return 0 if stats.completions else 1


def cmd_plot(args: argparse.Namespace) -> int:
    from trainer.plot import plot_run
    print(f"wrote {plot_run(args.run_dir, args.out)}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from trainer import generators
    from trainer.data import write_jsonl
    if args.kind == "leetcode":
        rows = generators.leetcode()
    else:
        rows = list(generators.GENERATORS[args.kind](args.n, seed=args.seed))
    print(f"wrote {write_jsonl(args.out, rows)} {args.kind} rows to {args.out}")
    return 0


def cmd_tiny_rm(args: argparse.Namespace) -> int:
    from trainer.data import read_jsonl
    from trainer.tiny import save_tiny_reward_model
    source = args.data or str(MIXED_DEMO)
    texts = [str(row.get("prompt", "")) for row in read_jsonl(source)]
    print(f"wrote a tiny reward model to {save_tiny_reward_model(args.out, texts)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="r1-trainer", description="GRPO with rewards from the reward service, and "
                                "the R1 stages around it: sft, sample (rejection sampling), plot, generate.")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default: INFO)")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, help_ in (("grpo", cmd_grpo, "GRPO (TRL) with rewards from the reward service"),
                              ("sft", cmd_sft, "SFT (TRL) on prompt/completion or messages JSONL"),
                              ("sample", cmd_sample, "rejection sampling graded by the service -> SFT JSONL")):
        cmd = sub.add_parser(name, help=help_)
        cmd.add_argument("--config", required=True, help="run YAML (see trainer/configs/)")
        cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="override a config key, e.g. training.max_steps=10 (repeatable)")
        cmd.set_defaults(func=func)
    plot = sub.add_parser("plot", help="PNG of reward, components, length and reflection rate of a run")
    plot.add_argument("run_dir", help="a run's output_dir (it holds metrics.jsonl)")
    plot.add_argument("--out", default=None, help="PNG path (default RUN_DIR/curves.png)")
    plot.set_defaults(func=cmd_plot)
    gen = sub.add_parser("generate", help="write a shipped data set as JSONL")
    gen.add_argument("kind", choices=["countdown", "arithmetic", "leetcode"], help="which data set")
    gen.add_argument("--n", type=int, default=1000, help="rows to generate (default: 1000; leetcode ships a fixed set)")
    gen.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    gen.add_argument("--out", required=True, help="JSONL file to write")
    gen.set_defaults(func=cmd_generate)
    rm = sub.add_parser("tiny-rm", help="write a tiny random reward model for CPU demos of R1's general-data stage")
    rm.add_argument("--out", required=True, help="directory to write (serve it: reward-service serve --models OUT)")
    rm.add_argument("--data", help="JSONL whose prompts the vocabulary must cover (default: the mixed demo data)")
    rm.set_defaults(func=cmd_tiny_rm)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # TRL reads transformers' deprecated `is_gradient_checkpointing` at every generation; nothing a user can
    # change, so not worth a warning in every run.
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
