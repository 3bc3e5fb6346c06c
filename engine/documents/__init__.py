"""The 生态环境损害索赔文书 (model forms [1]–[7]): rendering from docxtpl templates (``render``), the context of a
case (``context``), stored versions (``store``), download and PDF (``service``), template checks (``checks``).

Importing the package registers its tables (``models``) on ``engine.models.Base``, so that the schema
created at start includes them."""

from . import models as models  # noqa: F401  (registers document_pdfs on Base.metadata)
