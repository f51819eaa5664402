# An output reads a node pool the cluster does not have.

cluster "ml" {
  version = "1.31"
  region  = "us-west-2"
  subnets = ["subnet-ml-a", "subnet-ml-b"]

  node_pool "cpu" {
    instance_type = "c6i.8xlarge"
    min           = 2
    max           = 8
  }
}

output "gpu_nodes" {
  value = cluster.ml.node_pool.gpu.max # expect: error ref::unknown
}
