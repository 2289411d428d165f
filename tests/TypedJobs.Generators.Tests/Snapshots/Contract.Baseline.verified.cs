{
  "format": 1,
  "tasks": {
    "Shop.Contracts.IWelcomeTasks.Score": {
      "parameters": [
        { "name": "customer", "type": "Shop.Contracts.Customer" },
        { "name": "bonus", "type": "int", "default": true }
      ],
      "result": "int"
    },
    "welcome.send": {
      "queue": "emails",
      "parameters": [
        { "name": "email", "type": "string" },
        { "name": "customer", "type": "Shop.Contracts.Customer" }
      ]
    },
    "welcome.tag": {
      "parameters": [
        { "name": "tags", "type": "System.Collections.Generic.List<string>" }
      ]
    }
  },
  "types": {
    "Shop.Contracts.Customer": {
      "members": [
        { "name": "Name", "type": "string" },
        { "name": "Tier", "type": "Shop.Contracts.Tier", "optional": true }
      ]
    },
    "Shop.Contracts.Tier": {
      "enum": { "Basic": 0, "Gold": 1 }
    }
  }
}
