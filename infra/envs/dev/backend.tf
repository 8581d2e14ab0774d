# Local state by default, so `terraform init` works with no setup. For a shared environment,
# replace this block with an S3 backend (state locking uses an S3 lock file, Terraform >= 1.10;
# use dynamodb_table on older versions):
#
# terraform {
#   backend "s3" {
#     bucket       = "my-terraform-state"
#     key          = "imgflow/dev/terraform.tfstate"
#     region       = "eu-west-1"
#     encrypt      = true
#     use_lockfile = true
#   }
# }
terraform {
  backend "local" {
    path = "terraform.tfstate"
  }
}
