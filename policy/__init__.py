"""Policy gate on the synthesized Terraform: checkov plus reviewed waivers."""
