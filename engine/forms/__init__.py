"""Task forms: the JSON Schema of each user task and message (``bpmn/forms``) and validating data against them."""
