// Kugel POS on Azure Container Apps: one environment with the Dapr components (Azure Cache for
// Redis for pub/sub and state), one container app per registered service with Dapr enabled.
// The service list is services.json, generated from the service registry
// (python -m kugelpos.registry.deploy); the rest of this file is hand-written.
// Deploy: see README.md (az deployment group create ... --template-file main.bicep).

@description('Location of every resource.')
param location string = resourceGroup().location

@description('Name prefix, e.g. kugelpos-staging.')
param prefix string = 'kugelpos'

@description('Azure Container Registry login server, e.g. myregistry.azurecr.io.')
param registryServer string

@description('Image tag to deploy (the commit SHA from the pipeline).')
param imageTag string

@description('Name of the Key Vault holding the secrets (secret names below).')
param keyVaultName string

@description('Host name of Azure Cache for Redis (port 6380, TLS).')
param redisHost string

@description('Use Cosmos DB for MongoDB (vCore) created here; false: MONGODB_URI comes from Key Vault as given.')
param createCosmosMongo bool = false

@secure()
@description('Cosmos DB for MongoDB administrator password (only with createCosmosMongo).')
param cosmosAdminPassword string = ''

@description('Minimum and maximum replicas of every app; the cart scales further (cartMaxReplicas).')
param minReplicas int = 1
param maxReplicas int = 3
param cartMaxReplicas int = 10

var services = loadJsonContent('services.json')
var vaultUri = 'https://${keyVaultName}${environment().suffixes.keyvaultDns}/secrets'
// Key Vault secret names (values are never in this repository).
var secretNames = {
  secretKey: 'kugelpos-secret-key'
  notifyKey: 'kugelpos-pubsub-notify-api-key'
  mongodbUri: 'kugelpos-mongodb-uri'
  redisPassword: 'kugelpos-redis-password'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-apps'
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource cosmos 'Microsoft.DocumentDB/mongoClusters@2024-07-01' = if (createCosmosMongo) {
  name: '${prefix}-mongo'
  location: location
  properties: {
    administrator: { userName: 'kugelpos', password: cosmosAdminPassword }
    serverVersion: '7.0'
    compute: { tier: 'M30' }
    storage: { sizeGb: 128 }
    sharding: { shardCount: 1 }
    highAvailability: { targetMode: 'SameZone' }
  }
}

resource env 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${prefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

// The same five components as dapr/components/*.yaml, on Azure Cache for Redis over TLS; the
// password is read from Key Vault through the apps' identity. The same scopes too: which apps
// load each component, and which app may publish or subscribe to which topic.
var redisMetadata = [
  { name: 'redisHost', value: '${redisHost}:6380' }
  { name: 'redisPassword', secretRef: 'redis-password' }
  { name: 'enableTLS', value: 'true' }
]
var componentSecrets = [
  {
    name: 'redis-password'
    keyVaultUrl: '${vaultUri}/${secretNames.redisPassword}'
    identity: identity.id
  }
]
var components = {
  pubsub: {
    componentType: 'pubsub.redis'
    metadata: concat(redisMetadata, [
      { name: 'processingTimeout', value: '60s' }
      { name: 'redeliverInterval', value: '15s' }
      { name: 'maxLenApprox', value: '100000' }
      { name: 'allowedTopics', value: 'tranlog_report,tranlog_status,cashlog_report,opencloselog_report,report_dead_letters,journal_dead_letters,stock_dead_letters,stored-value_dead_letters' }
      { name: 'publishingScopes', value: 'cart=tranlog_report;terminal=cashlog_report,opencloselog_report;report=tranlog_status,report_dead_letters;journal=tranlog_status,journal_dead_letters;stock=tranlog_status,stock_dead_letters;stored-value=tranlog_status,stored-value_dead_letters;account=;master-data=' }
      { name: 'subscriptionScopes', value: 'cart=tranlog_status,opencloselog_report;terminal=tranlog_status;report=tranlog_report,cashlog_report,opencloselog_report;journal=tranlog_report,cashlog_report,opencloselog_report;stock=tranlog_report;stored-value=tranlog_report;account=;master-data=' }
    ])
    scopes: ['cart', 'terminal', 'report', 'journal', 'stock', 'stored-value']
  }
  'pubsub-broadcast': {
    componentType: 'pubsub.redis'
    metadata: concat(redisMetadata, [
      { name: 'consumerID', value: '{uuid}' }
      { name: 'processingTimeout', value: '10s' }
      { name: 'redeliverInterval', value: '5s' }
      { name: 'maxLenApprox', value: '10000' }
      { name: 'allowedTopics', value: 'masterdata_changed,stock_alerts,terminal_changed' }
      { name: 'publishingScopes', value: 'master-data=masterdata_changed;stock=stock_alerts;terminal=terminal_changed;cart=;report=;journal=;stored-value=' }
      { name: 'subscriptionScopes', value: 'master-data=masterdata_changed,terminal_changed;cart=masterdata_changed,terminal_changed;stock=stock_alerts,terminal_changed;report=terminal_changed;journal=terminal_changed;stored-value=terminal_changed;terminal=' }
    ])
    scopes: ['master-data', 'cart', 'stock', 'stored-value', 'terminal', 'report', 'journal']
  }
  statestore: {
    componentType: 'state.redis'
    metadata: concat(redisMetadata, [{ name: 'keyPrefix', value: 'name' }])
    scopes: ['account', 'terminal', 'master-data', 'cart', 'report', 'journal', 'stock', 'stored-value']
  }
  cartstore: {
    componentType: 'state.redis'
    metadata: concat(redisMetadata, [{ name: 'keyPrefix', value: 'name' }])
    scopes: ['cart']
  }
  terminalstore: {
    componentType: 'state.redis'
    metadata: concat(redisMetadata, [{ name: 'keyPrefix', value: 'name' }])
    scopes: ['cart']
  }
}

resource daprComponents 'Microsoft.App/managedEnvironments/daprComponents@2024-03-01' = [
  for name in objectKeys(components): {
    parent: env
    name: name
    properties: {
      componentType: components[name].componentType
      version: 'v1'
      secrets: componentSecrets
      metadata: components[name].metadata
      scopes: components[name].scopes
    }
  }
]

var baseUrls = [
  // Apps reach each other by app name inside the environment (port 80 to targetPort).
  for s in services: { name: s.baseUrlEnv, value: 'http://${prefix}-${s.name}/api/v1' }
]

resource apps 'Microsoft.App/containerApps@2024-03-01' = [
  for s in services: {
    name: '${prefix}-${s.name}'
    location: location
    identity: {
      type: 'UserAssigned'
      userAssignedIdentities: { '${identity.id}': {} }
    }
    properties: {
      managedEnvironmentId: env.id
      configuration: {
        activeRevisionsMode: 'Single'
        // Ingress only where a frontend or terminal calls the service; internal otherwise
        // (service-to-service calls and Dapr invocation stay inside the environment).
        ingress: {
          external: s.externalIngress
          targetPort: s.port
          transport: 'http'
          allowInsecure: false
        }
        // Container Apps generates the Dapr app API token itself (per app and revision), injects
        // it as APP_API_TOKEN into the container and sends it as dapr-api-token: it is not set
        // here, or the app would refuse its own sidecar's deliveries. The other direction (a
        // Dapr API token the sidecar demands, DAPR_API_TOKEN) and access-control policies (a
        // Dapr Configuration) are not offered by Container Apps: see README.md.
        dapr: {
          enabled: true
          appId: s.appId
          appPort: s.port
          appProtocol: 'http'
        }
        registries: [{ server: registryServer, identity: identity.id }]
        secrets: [
          { name: 'secret-key', keyVaultUrl: '${vaultUri}/${secretNames.secretKey}', identity: identity.id }
          { name: 'notify-key', keyVaultUrl: '${vaultUri}/${secretNames.notifyKey}', identity: identity.id }
          { name: 'mongodb-uri', keyVaultUrl: '${vaultUri}/${secretNames.mongodbUri}', identity: identity.id }
        ]
      }
      template: {
        containers: [
          {
            name: s.name
            image: '${registryServer}/kugelpos/${s.name}:${imageTag}'
            resources: { cpu: json('0.5'), memory: '1Gi' }
            env: concat([
              { name: 'SERVICE_NAME', value: s.name }
              { name: 'PORT', value: string(s.port) }
              { name: 'ENVIRONMENT', value: 'production' }
              { name: 'DAPR_HTTP_ENDPOINT', value: 'http://localhost:3500' }
              // The platform's daprd takes no API token (README.md): the services must not
              // insist on sending one.
              { name: 'DAPR_API_TOKEN_REQUIRED', value: 'false' }
              { name: 'SECRET_KEY', secretRef: 'secret-key' }
              { name: 'PUBSUB_NOTIFY_API_KEY', secretRef: 'notify-key' }
              { name: 'MONGODB_URI', secretRef: 'mongodb-uri' }
            ], baseUrls, s.env)
            probes: [
              { type: 'Readiness', httpGet: { path: '/health', port: s.port }, periodSeconds: 10 }
              { type: 'Liveness', httpGet: { path: '/health', port: s.port }, periodSeconds: 20, failureThreshold: 6 }
            ]
          }
        ]
        scale: {
          minReplicas: minReplicas
          maxReplicas: s.name == 'cart' ? cartMaxReplicas : maxReplicas
          rules: [
            { name: 'http', http: { metadata: { concurrentRequests: '50' } } }
          ]
        }
      }
    }
    dependsOn: [daprComponents]
  }
]

output urls array = [for (s, i) in services: { name: s.name, fqdn: apps[i].properties.configuration.ingress.fqdn }]
output cosmosCreated bool = createCosmosMongo
