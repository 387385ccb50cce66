// Modelship: the build of one model's image. The same script for every model, and static:
// every model and platform value reaches it only as a job parameter (params.NAME in Groovy,
// "$NAME" in shell), which Jenkins holds as data, so no MLproject text is ever code here.
//
// 1. check out the model repository at the rendered commit (and make sure that is what we got)
// 2. fetch the trained model from the artifact store and check its sha1 against the version
// 3. build the image on the runtime image of the model's main-language, with its packages
// 4. push it under the tag the Kubernetes Deployment references

final String DOCKERFILE = '''# syntax=docker/dockerfile:1
ARG MODELSHIP_BASE_IMAGE
FROM ${MODELSHIP_BASE_IMAGE}
USER root
COPY packages.json /opt/model/packages.json
# Each package is one pip argument (no requirements file, no shell): nothing in it is parsed
# but as a PEP 508 requirement.
RUN ["python", "-c", "import json, subprocess, sys; packages = json.load(open('/opt/model/packages.json')); packages and subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', '--', *packages])"]
COPY src/ /opt/model/src/
COPY artifact/model /opt/model/artifact
ENV MODEL_ARTIFACT=/opt/model/artifact
WORKDIR /opt/model/src
USER 10001:10001
'''

node(params.MODELSHIP_AGENT_LABEL) {
    deleteDir()
    try {
        stage('Check out') {
            dir('src') {
                checkout([
                    $class: 'GitSCM',
                    branches: [[name: params.MODEL_COMMIT]],
                    userRemoteConfigs: [[
                        url: params.MODEL_REPO_URL,
                        credentialsId: params.MODELSHIP_GIT_CREDENTIALS ?: null,
                    ]],
                ])
                String head = sh(script: 'git rev-parse HEAD', returnStdout: true).trim()
                if (head != params.MODEL_COMMIT) {
                    error('checked out ' + head + ' instead of ' + params.MODEL_COMMIT)
                }
            }
        }
        stage('Fetch model') {
            sh '''
                set -eu
                mkdir artifact
                case "$MODEL_URI" in
                    s3://*) aws s3 cp --only-show-errors "$MODEL_URI" artifact/model ;;
                    gs://*) gcloud storage cp "$MODEL_URI" artifact/model ;;
                    *) curl --fail --silent --show-error --location --output artifact/model "$MODEL_URI" ;;
                esac
                actual=$(sha1sum artifact/model | cut -d ' ' -f 1)
                if [ "$actual" != "$MODEL_VERSION" ]; then
                    echo "the artifact's sha1 is $actual, the MLproject's version is $MODEL_VERSION" >&2
                    exit 1
                fi
            '''
        }
        stage('Build image') {
            writeFile(file: 'Dockerfile', text: DOCKERFILE)
            writeFile(file: '.dockerignore', text: 'src/.git\n')
            writeFile(file: 'packages.json', text: params.MODEL_PACKAGES)
            sh '''
                set -eu
                docker build --pull \\
                    --build-arg MODELSHIP_BASE_IMAGE \\
                    --label "org.opencontainers.image.source=$MODEL_REPO_URL" \\
                    --label "org.opencontainers.image.revision=$MODEL_COMMIT" \\
                    --label "dev.modelship.model-id=$MODEL_ID" \\
                    --label "dev.modelship.model-version=$MODEL_VERSION" \\
                    --tag "$MODEL_IMAGE" .
            '''
        }
        stage('Push image') {
            // A per-build Docker configuration: the registry login never outlives the build.
            withEnv(['DOCKER_CONFIG=' + pwd() + '/.docker']) {
                withCredentials([usernamePassword(
                    credentialsId: params.MODELSHIP_REGISTRY_CREDENTIALS,
                    usernameVariable: 'REGISTRY_USERNAME',
                    passwordVariable: 'REGISTRY_PASSWORD',
                )]) {
                    sh '''
                        set -eu
                        printf '%s' "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USERNAME" --password-stdin "$MODELSHIP_REGISTRY"
                        docker push "$MODEL_IMAGE"
                    '''
                }
            }
        }
    } finally {
        deleteDir()
    }
}
