provider "aws" {
  region = var.region
}

# Only the required inputs: everything else takes the module's defaults.
module "image_pipeline" {
  source = "../../"

  name          = "imgflow-minimal"
  artifacts_dir = var.artifacts_dir
}
