# for_each over a list of objects: it needs a map keyed by name.

variable "tenants" {
  type = list(object({ name = string, memory = string }))
  default = [
    { name = "acme", memory = "2Gi" },
    { name = "globex", memory = "4Gi" },
  ]
}

host "tenants" {
  instance_type = "r6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "tenant" {
  for_each = var.tenants # expect: error meta::for-each
  image    = "registry.example.internal/tenant-app:4.2.0"
  cpus     = 1
  memory   = each.value.memory
}
