from __future__ import annotations

import os

from arame.cli.commands.base import Command, Lister, ShowOne, many, one

FIELDS = (
    "id",
    "name",
    "format",
    "status",
    "status_reason",
    "visibility",
    "size_bytes",
    "sha256",
    "account_id",
    "created_at",
    "updated_at",
)
LIST_FIELDS = ("id", "name", "format", "status", "visibility")
FORMATS = ("raw", "qcow2", "kernel")


class ListImage(Lister):
    """List images visible to you."""

    def take_action(self, parsed_args):
        return many(self.app.client.images.list(all=True), LIST_FIELDS)


class ShowImage(ShowOne):
    """Show one image."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("image_id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.images.get(parsed_args.image_id), FIELDS)


class DeleteImage(Command):
    """Delete an image no instance or volume uses any more."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("image_id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        self.app.client.images.delete(parsed_args.image_id)
        return 0


class CreateImage(ShowOne):
    """Create an image; with --file, upload its bytes too."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        # --disk-format: cliff owns -f/--format (the output format).
        parser.add_argument(
            "--disk-format",
            choices=FORMATS,
            default="raw",
            help="raw (a bootable disk, default), qcow2, or "
            "kernel (a tar of vmlinuz + initrd)",
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="visible to every account (admin)",
        )
        parser.add_argument(
            "--file",
            metavar="PATH",
            help="upload this file as the image's bytes",
        )
        parser.add_argument(
            "--sha256",
            help="the bytes' sha256 (computed from --file when not given)",
        )
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        images = self.app.client.images
        size = os.path.getsize(a.file) if a.file else None
        image = images.create(
            a.name,
            a.disk_format,
            size_bytes=size,
            sha256=a.sha256,
            visibility="public" if a.public else "private",
        )
        if a.file:
            image = images.upload(image["id"], a.file, sha256=a.sha256)
        return one(image, FIELDS)


class UploadImage(ShowOne):
    """Upload a file as the bytes of a pending image."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("image_id", metavar="NAME_OR_ID")
        parser.add_argument("path", help="the file to upload")
        parser.add_argument(
            "--sha256", help="the file's sha256 (computed when not given)"
        )
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        return one(
            self.app.client.images.upload(a.image_id, a.path, sha256=a.sha256),
            FIELDS,
        )
