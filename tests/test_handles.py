"""Handle normalisation."""
import pytest

from crm.contacts.handles import HandleError, normalize_handle, platform_of_url


@pytest.mark.parametrize("platform,raw,expected", [
    ("instagram", "https://www.instagram.com/Some.Name/", "some.name"),
    ("instagram", "@Some.Name", "some.name"),
    ("instagram", "  SOME.NAME  ", "some.name"),
    ("instagram", "instagram.com/some.name?igsh=abc", "some.name"),
    ("x", "https://twitter.com/Jack_Dorsey", "jack_dorsey"),
    ("x", "https://x.com/@elon", "elon"),
    ("tiktok", "https://www.tiktok.com/@Creator.One?lang=en", "creator.one"),
    ("youtube", "https://www.youtube.com/@SomeChannel/videos", "somechannel"),
    ("linkedin", "https://www.linkedin.com/in/Jane-Doe-123/", "jane-doe-123"),
    ("facebook", "https://www.facebook.com/profile.php?id=10001", "10001"),
    ("whatsapp", "+44 7700 900123", "+447700900123"),
    ("whatsapp", "https://wa.me/447700900123", "+447700900123"),
    ("email", "Jane@Example.COM", "jane@example.com"),
    ("other", "Some Thing", None),
])
def test_normalize(platform, raw, expected):
    if expected is None:
        with pytest.raises(HandleError):
            normalize_handle(platform, raw)
    else:
        assert normalize_handle(platform, raw) == expected


@pytest.mark.parametrize("platform,raw", [
    ("instagram", ""), ("instagram", "has space"), ("x", "waytoolonghandle_over15"),
    ("email", "not-an-email"), ("whatsapp", "12"), ("instagram", "https://instagram.com/"),
])
def test_bad_handles_are_refused(platform, raw):
    with pytest.raises(HandleError):
        normalize_handle(platform, raw)


def test_platform_of_url():
    assert platform_of_url("https://www.instagram.com/a/") == "instagram"
    assert platform_of_url("twitter.com/a") == "x"
    assert platform_of_url("https://example.com/a") is None
