"""Rendering of the 生态环境损害索赔文书 (model forms [1]–[7]) from docxtpl templates."""
