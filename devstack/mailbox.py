"""The e-mails the processes send, as Django's file backend writes them."""

import re
import shutil
import tempfile
from pathlib import Path


class Mailbox:
    """A temp directory; `url` is the EMAIL_URL that makes the shop write its e-mails there.

    The file backend names a file by the second and appends to it: two e-mails one process
    sends within a second share a file, separated by a line of 79 dashes.
    """

    def __init__(self, prefix: str = "mail-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    @property
    def url(self) -> str:
        return f"filemail:///{self.path}"  # an absolute path: four slashes

    def files(self) -> list[str]:
        """The text of each file, oldest name first."""
        return [p.read_text(errors="replace") for p in sorted(self.path.iterdir())]

    def headers(self) -> list[tuple[str, str]]:
        """(Subject, Message-ID) of every message."""
        found = []
        for text in self.files():
            for message in re.split(r"^-{79}$", text, flags=re.M):
                subject = re.search(r"^Subject: (.*)$", message, re.M)
                if subject:
                    message_id = re.search(r"^Message-ID: (.*)$", message, re.M)
                    found.append((subject[1], message_id[1] if message_id else ""))
        return found

    def subjects(self) -> list[str]:
        return [subject for subject, _ in self.headers()]

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
