"""Tests of course_utils.checks: the error messages students see."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_image, check_same_shape, check_scale


@pytest.mark.parametrize("image", [
    np.zeros((4, 5)), np.zeros((4, 5, 3)), np.zeros((4, 5, 1)),
    np.zeros((4, 5), np.uint8), np.zeros((4, 5, 3), np.uint16), np.zeros((4, 5), np.float32),
])
def test_check_image_accepts_course_images(image):
    assert check_image(image) is image


@pytest.mark.parametrize(("image", "error", "message"), [
    ([[0.0, 1.0]], TypeError, "hr must be a NumPy array, got list.*load_image"),
    (np.zeros((4, 5, 4)), ValueError, r"hr has 4 channels \(RGBA.*alpha='drop'"),
    (np.zeros((4, 5, 2)), ValueError, r"hr must have shape \(H, W\).*got shape \(4, 5, 2\)"),
    (np.zeros((3, 4, 5)), ValueError, r"\(C, H, W\) must be permuted"),
    (np.zeros(5), ValueError, r"got shape \(5,\)"),
    (np.zeros((1, 4, 5, 3)), ValueError, "got shape"),
    (np.zeros((0, 5)), ValueError, "hr is empty"),
    (np.zeros((4, 5), np.int64), TypeError, "hr has dtype int64; use float in"),
    (np.zeros((4, 5), bool), TypeError, "dtype bool"),
])
def test_check_image_errors(image, error, message):
    with pytest.raises(error, match=message):
        check_image(image, "hr")


@pytest.mark.parametrize("shape", [(4, 5, 2), (4, 5, 4), (4, 5), (4, 5, 3)])
def test_check_image_takes_alpha_channels_only_when_asked(shape):
    image = np.zeros(shape, np.uint8)  # gray+alpha and RGBA, as read from a file
    assert check_image(image, alpha=True) is image


@pytest.mark.parametrize("shape", [(4, 5, 5), (4, 5, 6), (2, 4, 5, 4)])
def test_check_image_with_alpha_still_refuses_other_shapes(shape):
    with pytest.raises(ValueError, match=r"must have shape \(H, W\)"):
        check_image(np.zeros(shape), alpha=True)


def test_check_same_shape():
    check_same_shape(np.zeros((3, 4)), np.ones((3, 4)), ("a", "b"))
    with pytest.raises(ValueError, match=r"sr and hr must have the same shape, got \(3, 4\) and "
                                         r"\(3, 5\).*modcrop"):
        check_same_shape(np.zeros((3, 4)), np.zeros((3, 5)), ("sr", "hr"))


@pytest.mark.parametrize(("scale", "expected"), [(2, 2), (3.0, 3), (np.int64(4), 4), (1, 1)])
def test_check_scale_accepts_integers(scale, expected):
    result = check_scale(scale)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(("scale", "error", "message"), [
    (2.5, ValueError, "scale must be a whole number of at least 1.*2.5.*imresize"),
    (0, ValueError, "at least 1"),
    (-2, ValueError, "at least 1"),
    ("3", TypeError, "scale must be an integer such as 2, 3 or 4, got '3'"),
    (True, TypeError, "got True"),
    (None, TypeError, "got None"),
])
def test_check_scale_errors(scale, error, message):
    with pytest.raises(error, match=message):
        check_scale(scale)
