"""The 生态环境损害索赔文书 (model forms [1]–[7]): rendering from docxtpl templates (``render``), the context of a
case (``context``), stored versions (``store``), PDF conversion (``pdf``), template checks (``checks``).
Downloading and regenerating are use cases in ``engine/services/documents.py``."""
