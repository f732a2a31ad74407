"""Settings: defaults, then BOT_* environment variables, then flags; bad values are usage errors."""

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import UsageError


def test_flags_override_the_environment_which_overrides_the_defaults(tmp_path):
    env = {"BOT_TOP_K": "7", "BOT_CORPUS_DIR": str(tmp_path / "env-docs"), "BOT_READER": "none"}
    settings = load_settings({"top_k": 3, "corpus_dir": None}, environ=env)
    assert settings.top_k == 3  # the flag
    assert settings.corpus_dir == tmp_path / "env-docs" and settings.reader == "none"  # the environment
    assert settings.read_k == Settings().read_k  # the default


@pytest.mark.parametrize("env,message", [
    ({"BOT_TOP_K": "many"}, "BOT_TOP_K='many' is not a valid int"),
    ({"BOT_TOP_K": "0"}, "BOT_TOP_K=0: top_k must be between 1 and max_top_k=50"),
    ({"BOT_TOP_K": "51"}, "top_k must be between 1 and max_top_k=50"),
    ({"BOT_CHUNK_OVERLAP": "600"}, "chunk_overlap must be between 0 and chunk_size-1"),
    ({"BOT_ABSTAIN_THRESHOLD": "1.5"}, "abstain_threshold must be in [0, 1]"),
    ({"BOT_PORT": "70000"}, "port must be in 1..65535"),
    ({"BOT_ABSTAIN_THRESHOLD": "nan"}, "abstain_threshold must be in [0, 1]"),
    ({"BOT_MAX_ANSWER_TOKENS": "0"}, "max_answer_tokens must be >= 1"),
    ({"BOT_MAX_QUESTION_CHARS": "-20"}, "max_question_chars must be >= 1"),
    ({"BOT_MAX_FILE_MB": "nan"}, "max_file_mb must be a size in MB"),
    ({"BOT_MAX_FILE_MB": "inf"}, "max_file_mb must be a size in MB"),
    ({"BOT_MAX_FILE_MB": "0"}, "max_file_mb must be a size in MB"),
    ({"BOT_MAX_TOP_K": "0"}, "BOT_MAX_TOP_K=0: max_top_k must be >= 1"),
])
def test_bad_values_are_usage_errors_that_name_the_setting(env, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(environ=env)


def test_a_lower_passage_limit_lowers_the_default_and_a_flag_is_named_as_itself():
    assert load_settings(environ={"BOT_MAX_TOP_K": "3"}).top_k == 3
    assert load_settings(environ={"BOT_MAX_TOP_K": "3", "BOT_TOP_K": "2"}).top_k == 2
    with pytest.raises(UsageError, match=r"^top_k must be"):  # the flag's value, not the variable's
        load_settings(overrides={"top_k": 0}, environ={"BOT_TOP_K": "4"})


@pytest.mark.parametrize("key", ["index_dir", "corpus_dir"])
def test_an_empty_folder_name_is_refused_not_taken_for_the_current_folder(key):
    with pytest.raises(UsageError, match="folder is empty: name a folder"):
        load_settings({key: ""}, environ={})


def test_a_folder_setting_that_names_a_file_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        load_settings({"index_dir": tmp_path / "a-file"}, environ={})
    assert load_settings({"index_dir": tmp_path / "new"}, environ={}).index_dir == Path(tmp_path / "new")
