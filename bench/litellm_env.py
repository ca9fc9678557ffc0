"""The peer: LiteLLM proxy, pinned, in its own virtualenv under bench/.venvs/ (gitignored).

1.108.7 is the newest release that installs from the registries reachable here. The proxy
refuses the master key ``sk-1234``, so a random one is generated per run.

    .venv/bin/python -m bench.litellm_env        # create/verify the venv (slow: minutes)
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

from bench.errors import HarnessError
from bench.procs import ROOT, Proc, Procs, wait_for_port

LITELLM_VERSION = "1.108.7"
VENV = ROOT / "bench" / ".venvs" / "litellm"
PROXY_START_TIMEOUT = 180.0


def installed_version() -> str | None:
    """The litellm version in the venv, or None when it is not installed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        return None
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def ensure_venv() -> Path:
    """Create the venv and install the pinned proxy unless it is already there."""
    if installed_version() == LITELLM_VERSION:
        return VENV
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    pip = [str(VENV / "bin" / "pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"]
    result = subprocess.run(pip, check=False, timeout=3600)
    if result.returncode != 0 or installed_version() != LITELLM_VERSION:
        raise HarnessError(
            f"could not install litellm[proxy]=={LITELLM_VERSION} into {VENV}; "
            "see pip's output above"
        )
    return VENV


def new_master_key() -> str:
    """A random master key (the proxy refuses ``sk-1234``)."""
    return "sk-bench-" + secrets.token_hex(16)


def write_config(path: Path, *, upstream_url: str, master_key: str, model: str) -> Path:
    """A proxy config routing ``model`` to the fake OpenAI-compatible upstream."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {upstream_url}/v1\n"
        "      api_key: bench-upstream-key\n"
        "general_settings:\n"
        f"  master_key: {master_key}\n"
        "litellm_settings:\n"
        "  telemetry: false\n",
        encoding="utf-8",
    )
    return path


def start_proxy(registry: Procs, *, port: int, config: Path) -> Proc:
    """Start ``litellm --config`` on 127.0.0.1:<port> (one server process)."""
    binary = VENV / "bin" / "litellm"
    if not binary.exists():
        raise HarnessError(f"{binary} missing; run `.venv/bin/python -m bench.litellm_env` first")
    argv = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    # No network here: use the bundled model cost map instead of fetching it at start-up.
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    proc = registry.spawn("litellm", [*argv, "--num_workers", "1"], env=env)
    wait_for_port(port, timeout=PROXY_START_TIMEOUT, proc=proc)
    return proc


def main() -> None:
    """Create or verify the venv, print where it is."""
    print(f"litellm {LITELLM_VERSION} in {ensure_venv()}")


if __name__ == "__main__":
    main()
