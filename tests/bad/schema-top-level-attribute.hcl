# A setting written at the top level instead of inside `locals { }`.

region = "eu-west-1" # expect: error schema::unknown-attribute

cluster "ops" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-ops-a", "subnet-ops-b"]
}
