"""Who samples the chunks of a large sample: this process, local worker processes, or Ray tasks.

A runner takes chunks and yields ``(chunk, token ids)`` in chunk order, with at
most ``2 * jobs`` chunks in flight, so memory stays flat however many rows are
asked for. Workers load the model from its saved folder once and keep it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fuseprune.errors import ConfigError, FusepruneError
from fuseprune.lifetime import threads_per_job
from fuseprune.registry import Registry
from fuseprune.tabular.codec import load_codec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.sampler import RowSampler
from fuseprune.tabular.workers import WorkerPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Rows first_row..first_row+rows-1 of the seed's stream; ``index`` is the chunk's place in the file."""

    index: int
    first_row: int
    rows: int


@dataclass(frozen=True)
class ModelSource:
    """A model in memory, its saved folder, or both."""

    bundle: TabularGPT | None = None
    folder: Path | None = None

    @classmethod
    def of(cls, model: TabularGPT | str | Path) -> ModelSource:
        """Wrap a model or a model folder."""
        return cls(bundle=model) if isinstance(model, TabularGPT) else cls(folder=Path(model))

    def codec(self) -> Codec:
        """The model's codec (without loading the weights when only the folder is known)."""
        return self.bundle.codec if self.bundle is not None else load_codec(self._folder())

    def load(self) -> TabularGPT:
        """The model itself."""
        return self.bundle if self.bundle is not None else TabularGPT.load(self._folder())

    def _folder(self) -> Path:
        if self.folder is None:
            raise ConfigError("a model source needs the model or its saved folder; pass one of them.")
        return self.folder

    def saved_folder(self, why: str) -> str:
        """The folder, or a one-line error saying that ``why`` needs one."""
        if self.folder is None:
            raise ConfigError(f"{why} needs the model's saved folder; save it and pass the folder.")
        return str(self.folder.resolve())


def sample_chunk(sampler: RowSampler, chunk: Chunk, settings: dict[str, Any]) -> np.ndarray:
    """Token ids of one chunk, in the smallest integer type that holds the vocabulary."""
    ids = sampler.sample(chunk.rows, first_row=chunk.first_row, **settings)
    return ids.numpy().astype(np.int16 if sampler.codec.vocab_size < 2**15 else np.int32)


def ordered(chunks: Iterable[Chunk], submit: Callable[[Chunk], Any], wait: Callable[[Any], np.ndarray],
            limit: int) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Submit chunks with at most ``limit`` in flight; yield their results in chunk order."""
    pending: deque[tuple[Chunk, Any]] = deque()
    for chunk in chunks:
        pending.append((chunk, submit(chunk)))
        if len(pending) >= limit:
            head, handle = pending.popleft()
            yield head, wait(handle)
    while pending:
        head, handle = pending.popleft()
        yield head, wait(handle)


class ChunkRunner(ABC):
    """Samples chunks somewhere; a context manager that releases its workers on exit."""

    def __init__(self, source: ModelSource, config: Any) -> None:
        self.source = source
        self.jobs = config.jobs
        self.settings = {"seed": config.seed, "batch_size": config.batch_size or None,
                         "temperature": config.temperature}
        self.threads = threads_per_job(self.jobs)

    @abstractmethod
    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, np.ndarray]]:
        """Yield (chunk, token ids) in chunk order."""

    def close(self, failed: bool) -> None:  # noqa: B027 - an optional hook: in-process runners keep this no-op
        """Release the workers (at once when ``failed``)."""

    def __enter__(self) -> ChunkRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        self.close(kind is not None)


#: Chunk runners by backend name.
RUNNERS: Registry[type[ChunkRunner]] = Registry("backend")

_WORKER: dict[str, RowSampler] = {}


@RUNNERS.register("local")
class LocalRunner(ChunkRunner):
    """One job samples in this process; more jobs are spawned worker processes."""

    def __init__(self, source: ModelSource, config: Any) -> None:
        super().__init__(source, config)
        self._pool: WorkerPool | None = None
        if self.jobs > 1:
            self._pool = WorkerPool(source.saved_folder("--jobs above 1"), self.jobs, self.threads, self.settings)

    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, np.ndarray]]:
        """Sample the chunks in this process or on the worker pool; yield them in order."""
        if self._pool is None:
            bundle = self.source.load()
            sampler = RowSampler(bundle.model, bundle.codec)
            yield from ((c, sample_chunk(sampler, c, self.settings)) for c in chunks)
            return
        yield from ordered(chunks, self._pool.submit, self._pool.wait, 2 * self.jobs)

    def close(self, failed: bool) -> None:
        """Close the worker pool, if any."""
        if self._pool is not None:
            self._pool.close(failed)


@RUNNERS.register("ray")
class RayRunner(ChunkRunner):
    """Ray tasks, on a local Ray instance started here or on an existing cluster (``ray_address``)."""

    def __init__(self, source: ModelSource, config: Any) -> None:
        super().__init__(source, config)
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray needs Ray; install it with: pip install 'fuseprune[ray]'.") from None
        self._ray, self._folder = ray, source.saved_folder("--backend ray")
        self._started = not ray.is_initialized()
        if config.ray_address:
            from fuseprune.ray_cluster import check_reachable

            check_reachable(config.ray_address)
            ray.init(address=config.ray_address, logging_level=logging.ERROR, log_to_driver=False)
        elif self._started:
            ray.init(num_cpus=self.jobs, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_chunk)

    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, np.ndarray]]:
        """Sample the chunks as Ray tasks; yield them in order."""

        def submit(chunk: Chunk) -> Any:
            return self._remote.remote(self._folder, self.threads, chunk, self.settings)

        yield from ordered(chunks, submit, self._get, 2 * self.jobs)

    def _get(self, ref: Any) -> np.ndarray:
        try:
            return self._ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - RayTaskError wraps the worker's own exception
            cause = getattr(exc, "cause", None)
            if isinstance(cause, FusepruneError):
                raise cause from None
            last_line = str(cause or exc).strip().splitlines()[-1]
            raise FusepruneError(f"a Ray sampling task failed ({last_line}).") from None

    def close(self, failed: bool) -> None:
        """Shut Ray down if this runner started it."""
        if self._started:
            self._ray.shutdown()


def _ray_chunk(folder: str, threads: int, chunk: Chunk, settings: dict[str, Any]) -> np.ndarray:
    """A Ray task: load the model once per worker process, then sample the chunk."""
    if folder not in _WORKER:
        import torch

        from fuseprune.progress import quiet_transformers

        torch.set_num_threads(threads)
        quiet_transformers()
        bundle = TabularGPT.load(folder)
        _WORKER[folder] = RowSampler(bundle.model, bundle.codec)
    return sample_chunk(_WORKER[folder], chunk, settings)
