"""Java detection: a missing Java is one clear JavaNotFoundError, before Spark starts."""
from __future__ import annotations

import pytest

from pmmlkit.errors import JavaNotFoundError
from pmmlkit.java import java_major, require_java


@pytest.mark.parametrize("text, major", [("1.8.0_292", 8), ("11.0.2", 11), ("17.0.15", 17), ("21", 21),
                                         ("17-ea", 17), ("22.0.1+8", 22)])
def test_java_major(text, major):
    assert java_major(text) == major


def test_the_installed_java_is_found():
    assert require_java(17).endswith("java")


def test_a_newer_minimum_than_installed_is_refused():
    with pytest.raises(JavaNotFoundError, match=r"needs Java 99 or newer: install a Java 99"):
        require_java(99)


def test_no_java_anywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaNotFoundError) as e:
        require_java()
    assert "has no bin/java" in str(e.value) and "no `java` on PATH" in str(e.value)
    assert "openjdk-17" in str(e.value)


def test_get_session_checks_java_before_spark(monkeypatch, tmp_path):
    from pmmlkit.spark.session import get_session

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaNotFoundError, match="no Java runtime found"):
        get_session(master="local[1]", app_name="never-started")
