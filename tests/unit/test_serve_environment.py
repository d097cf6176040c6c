"""The serving process's settings (`rdv_app.serve_built.serve_environment`): with Redis, Reflex's
opportunistic lock and one worker per process (an instance runs one process per core), unless the operator chose otherwise; without Redis (the
embedded default, states in the one process's memory), neither."""

from __future__ import annotations

from rdv_app.serve_built import serve_environment


def test_several_processes_on_redis_keep_each_tabs_state_where_it_is_served() -> None:
    served = serve_environment({"REFLEX_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert served["REFLEX_OPLOCK_ENABLED"] == "true"
    assert served["GRANIAN_WORKERS"] == "1"
    assert served["__REFLEX_SKIP_COMPILE"] == "true"


def test_the_operators_settings_win() -> None:
    served = serve_environment({"REFLEX_REDIS_URL": "redis://r/0", "REFLEX_OPLOCK_ENABLED": "false",
                                "GRANIAN_WORKERS": "3"})
    assert "REFLEX_OPLOCK_ENABLED" not in served and "GRANIAN_WORKERS" not in served


def test_the_embedded_default_has_one_process_and_no_lock_to_hold() -> None:
    for environ in ({}, {"REFLEX_REDIS_URL": " "}):
        assert serve_environment(environ) == {"__REFLEX_SKIP_COMPILE": "true"}
