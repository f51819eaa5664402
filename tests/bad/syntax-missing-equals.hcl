# `min 3` instead of `min = 3`.

cluster "search" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-search-a", "subnet-search-b"]

  node_pool "general" {
    instance_type = "r6i.2xlarge"
    min 3 # expect: error syntax::parse
    max           = 6
  }
}
