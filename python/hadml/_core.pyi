import numpy as np
from numpy.typing import ArrayLike, NDArray

class KinematicsError(ValueError): ...
class ModelError(RuntimeError): ...
class OnnxRuntimeError(ModelError): ...

def two_body_decay(
    clusters: ArrayLike, m1: ArrayLike, m2: ArrayLike, theta: ArrayLike, phi: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def recover_angles(
    clusters: ArrayLike, h1: ArrayLike, h2: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]: ...
def boost(vectors: ArrayLike, frames: ArrayLike, to_rest: bool) -> NDArray[np.float64]: ...
def decay_frame(
    clusters: ArrayLike, constituents1: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def recover_frame_direction(
    clusters: ArrayLike, constituents1: ArrayLike, h1: ArrayLike, h2: ArrayLike
) -> NDArray[np.float64]: ...
def two_body_momentum(M: float, m1: float, m2: float) -> float: ...
def available_providers(onnxruntime_library: str = "") -> list[str]: ...
def default_onnxruntime_library() -> str: ...
def loaded_onnxruntime_library() -> str: ...
def onnxruntime_api_version() -> int: ...
def locate_onnxruntime(requested: str = "") -> tuple[str, str, list[str]]: ...

class Decayer:
    def __init__(
        self,
        model_path: str,
        threads: int = 1,
        provider: str = "cpu",
        cuda_device: int = 0,
        onnxruntime_library: str = "",
    ) -> None: ...
    @property
    def metadata(self) -> dict[str, str]: ...
    @property
    def noise_dim(self) -> int: ...
    @property
    def n_conditions(self) -> int: ...
    @property
    def use_partons(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def format_version(self) -> int: ...
    def decay2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        noise: ArrayLike,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]]: ...
    def preprocess2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
    ) -> NDArray[np.float32]: ...
    def in_domain(self, pid1: int, pid2: int, hadron1: int, hadron2: int, M: float) -> bool: ...
    def decay(
        self,
        clusters: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        noise: ArrayLike,
        flip: ArrayLike,
        parton1: ArrayLike | None = None,
        has_partons: ArrayLike | None = None,
    ) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]
    ]: ...
    def preprocess(
        self, clusters: ArrayLike, parton1: ArrayLike | None = None, has_partons: ArrayLike | None = None
    ) -> NDArray[np.float32]: ...
    def network(self, conditions: ArrayLike, noise: ArrayLike) -> NDArray[np.float32]: ...
    def postprocess(
        self, t: ArrayLike, clusters: ArrayLike, m1: ArrayLike, m2: ArrayLike, flip: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
    def benchmark(
        self,
        clusters: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        batch: int,
        seconds: float = 1.0,
        seed: int = 1,
        parton1: ArrayLike | None = None,
        has_partons: ArrayLike | None = None,
    ) -> dict[str, float | list[float]]: ...
    def benchmark2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        batch: int,
        seconds: float = 1.0,
        seed: int = 1,
    ) -> dict[str, float | list[float]]: ...
