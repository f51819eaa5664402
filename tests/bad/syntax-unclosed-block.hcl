# The closing brace of the node pool is missing, so the cluster block never ends.

cluster "payments" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-pay-a", "subnet-pay-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 3
    max           = 6

} # expect: error syntax::parse
