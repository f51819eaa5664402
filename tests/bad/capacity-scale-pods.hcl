# A pod cap of 200,000, beyond the 150,000 pods per cluster Kubernetes supports.

cluster "mega" { # expect: error capacity::scale
  version  = "1.31"
  region   = "us-east-1"
  subnets  = ["subnet-mega-a", "subnet-mega-b", "subnet-mega-c"]
  max_pods = 200000

  node_pool "a" {
    instance_type = "m6i.8xlarge"
    min           = 100
    max           = 1000
  }
}
