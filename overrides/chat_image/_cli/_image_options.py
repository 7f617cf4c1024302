"""The image policy's options, shared by `ask` and `batch` (issue 18): which gateway profile
to fit images to, whether to keep their metadata, who fetches image URLs, and which PDF pages
to send."""

from __future__ import annotations

import argparse

from .._images.limits import PROFILES, ImagePolicy

__all__ = ["add_image_options", "image_policy"]


def add_image_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("images")
    group.add_argument(
        "--target",
        choices=tuple(PROFILES),
        default="openai",
        help="fit images to this gateway's limits (default: openai)",
    )
    group.add_argument(
        "--keep-metadata",
        action="store_true",
        help="send GPS, device and dates too (default: stripped; the colour profile stays)",
    )
    group.add_argument(
        "--urls",
        choices=("pass", "inline", "auto"),
        default="pass",
        help="who fetches image URLs: the gateway (pass), this client (inline), or the "
        "gateway and this client when it could not (auto)",
    )
    group.add_argument(
        "--pdf-pages",
        metavar="PAGES",
        help="pages of each PDF input to send, e.g. 1-3 or 1,4 (default: all, at most 100; "
        "needs chat-image[pdf])",
    )


def image_policy(args: argparse.Namespace) -> ImagePolicy:
    return ImagePolicy(
        limits=args.target,
        metadata="keep" if args.keep_metadata else "strip",
        urls=args.urls,
    )
