"""Static files storage with DEBUG off: whitenoise's compressed, hashed (manifest) names.

Django's manifest storage turns a page that links a file the manifest lacks into a 500,
which is what every admin page would become on a server where `collectstatic` was
forgotten. Here such a file is linked by its plain name (it then answers 404, and the
page still works); collectstatic itself still fails loudly on a broken file.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if content is not None:  # collectstatic hashing a file: a real error
                raise
            # With no manifest at all, collectstatic was forgotten (check shop.W001 says so
            # too). With one, the name is not a collected file: most often whitenoise probing
            # at start-up whether a file name carries a hash, which is no fault.
            log = logger.debug if self.hashed_files else logger.warning
            log("static file %s is not collected (run collectstatic)", name)
            return name
