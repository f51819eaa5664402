# A placement that names no cluster would run the replicas nowhere.

service "api" {
  replicas = 3
  image    = "registry.example.com/api:1"

  placement {
    clusters = [] # expect: error placement::strategy
  }
}
