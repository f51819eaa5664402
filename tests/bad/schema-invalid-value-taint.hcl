# Node pool taints must be KEY[=VALUE]:EFFECT for the node group's taint blocks.

cluster "c" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-a", "subnet-b"]

  node_pool "p" {
    instance_type = "m6i.large"
    min           = 1
    max           = 2
    taints        = ["dedicated=gpu", "ok=yes:NoSchedule", "=x:NoExecute"] # expect: error schema::invalid-value; error schema::invalid-value
  }
}
