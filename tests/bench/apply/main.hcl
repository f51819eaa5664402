# The apply workload of ../shared/apply: N dense Docker hosts, each an x1.32xlarge instance
# with one io2 volume of 1000 GiB and 16000 IOPS attached at /dev/sdf, in one zone.
# Used by tests/bench/apply.py beside the raw client and Terraform.

variable "hosts" {
  type        = number
  description = "How many hosts."
}

variable "ami" {
  type        = string
  description = "A machine image the EC2 endpoint knows."
}

host "dh" {
  count         = var.hosts
  instance_type = "x1.32xlarge"
  ami           = var.ami
  zone          = "us-east-1a"

  volume "data" {
    type   = "io2"
    size   = "1000Gi"
    iops   = 16000
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}
