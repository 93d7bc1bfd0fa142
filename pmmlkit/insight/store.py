"""Reports and profiles kept with a model version in the repository."""
from __future__ import annotations

from ..errors import ModelNotFoundError
from ..repository.store import open_repository
from .profile import Profile

PROFILE = "profile.json"
REPORT = "report.html"


def model_profile(ref: str, *, repo: str | None = None) -> tuple[Profile, str]:
    """The training profile published with the version ``ref`` resolves to, and that version's ref."""
    repository = open_repository(repo)
    version = repository.resolve(ref)
    if PROFILE not in version.manifest.files:
        raise ModelNotFoundError(f"{version.ref} was published without a training profile ({PROFILE}); "
                                 "train it again with this pmmlkit, or pass --profile PATH")
    raw = repository.read_file(version, PROFILE)
    return Profile.from_json(raw, source=f"{version.ref}/{PROFILE}"), version.ref


def model_report(ref: str, *, repo: str | None = None) -> tuple[bytes, str]:
    """The report.html published with the version ``ref`` resolves to, and that version's ref."""
    repository = open_repository(repo)
    version = repository.resolve(ref)
    if REPORT not in version.manifest.files:
        raise ModelNotFoundError(f"{version.ref} was published without a training report ({REPORT}): "
                                 "train it again with this pmmlkit (and the report extra: "
                                 "pip install 'pmmlkit[report]')")
    return repository.read_file(version, REPORT), version.ref
