from __future__ import annotations

import os

from arame.cli.commands.base import Command, Lister, ShowOne, many, one

FIELDS = (
    "id",
    "name",
    "type",
    "fingerprint",
    "public_key",
    "account_id",
    "created_at",
)
LIST_FIELDS = ("id", "name", "type", "fingerprint")


class CreateKeyPair(ShowOne):
    """Import a public key, or generate a pair (the private key is shown, or
    written with --private-key-file, this one time only)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument(
            "--public-key-file",
            metavar="FILE",
            help="import this OpenSSH public key",
        )
        parser.add_argument(
            "--type",
            choices=("ed25519", "rsa"),
            default="ed25519",
            help="of a generated pair",
        )
        parser.add_argument(
            "--private-key-file",
            metavar="FILE",
            help="write a generated private key here (mode "
            "0600; an existing file is not overwritten)",
        )
        return parser

    def take_action(self, parsed_args):
        public_key = None
        if parsed_args.public_key_file:
            with open(parsed_args.public_key_file) as f:
                public_key = f.read()
        out_fd = None
        if parsed_args.private_key_file and public_key is None:
            # Opened before the request: a pair whose private key cannot be
            # saved must not be created.
            out_fd = os.open(
                parsed_args.private_key_file,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                0o600,
            )
        try:
            kp = self.app.client.key_pairs.create(
                parsed_args.name, public_key=public_key, type=parsed_args.type
            )
        except BaseException:
            if out_fd is not None:
                os.close(out_fd)
                os.unlink(parsed_args.private_key_file)
            raise
        if out_fd is not None:
            with os.fdopen(out_fd, "w") as f:
                f.write(kp.pop("private_key") or "")
        elif kp.get("private_key") is None:
            kp.pop("private_key", None)
        return one(kp, FIELDS + ("private_key",))


class ListKeyPair(Lister):
    """List key pairs."""

    def take_action(self, parsed_args):
        return many(self.app.client.key_pairs.list(all=True), LIST_FIELDS)


class ShowKeyPair(ShowOne):
    """Show a key pair."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.key_pairs.get(parsed_args.id), FIELDS)


class DeleteKeyPair(Command):
    """Delete a key pair (instances keep the key they booted with)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        self.app.client.key_pairs.delete(parsed_args.id)
        return 0
