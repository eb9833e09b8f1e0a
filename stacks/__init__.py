"""CDKTF stacks and constructs for the GloboRealty Azure ML platform.

Importing this package is cheap: the azurerm binding is only imported by the
stack and construct modules themselves (see ``stacks.binding_loader``).
"""
