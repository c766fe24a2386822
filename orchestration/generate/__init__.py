"""Synthetic OmniSupport ticket exports: daily ticket_v1 JSONL batches with their source manifests."""

from orchestration.generate.generator import DEMO_ARGS, INVALID_KINDS, BatchSummary, GenerationSummary, generate

__all__ = ["DEMO_ARGS", "INVALID_KINDS", "BatchSummary", "GenerationSummary", "generate"]
