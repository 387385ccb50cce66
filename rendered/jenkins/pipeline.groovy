// Modelship: the build of one model's image. The same script for every model, and static:
// every model and platform value reaches it only as a job parameter (params.NAME in Groovy,
// "$NAME" in shell), which Jenkins holds as data, so no MLproject text is ever code here.
//
// 1. check out the commit to build: MODEL_COMMIT (by default the commit Modelship rendered),
//    or, for a build started by a push, the pushed head of MODEL_BRANCH; stop when its
//    MLproject changes what the job was rendered with (Modelship renders it first)
// 2. fetch the trained model from the artifact store and check its sha1 against the version
// 3. build the image on the runtime image of the model's main-language, with its packages
// 4. start it as the Deployment does (read-only root, uid 10001) and wait for /healthz
// 5. push it as MODEL_IMAGE_REPOSITORY:<commit7>, the tag a Deployment of that commit runs
// 6. optionally tell the platform repository (a model-changed repository_dispatch)
//
// Plugins: Pipeline, Git, GitHub, Credentials Binding, Pipeline Utility Steps (readYaml,
// readJSON, writeJSON).

final String DOCKERFILE = '''# syntax=docker/dockerfile:1
ARG MODELSHIP_BASE_IMAGE
FROM ${MODELSHIP_BASE_IMAGE}
# A package index to install from instead of PyPI (a mirror), from the agent's environment.
ARG PIP_INDEX_URL
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

// What the image holds comes from the job's parameters; a commit whose MLproject disagrees
// with them is not built here (its render changes this job, and that build builds it).
List<String> changedFromRendered(Map project) {
    List<String> changed = []
    if (project.id != params.MODEL_ID) { changed.add('id') }
    if (project.name != params.MODEL_NAME) { changed.add('name') }
    if (project.version != params.MODEL_VERSION) { changed.add('version') }
    if ((project.pickle == null ? true : project.pickle) != (params.MODEL_PICKLE == 'true')) {
        changed.add('pickle')
    }
    if ((project['main-language'] ?: 'python') != params.MODEL_MAIN_LANGUAGE) {
        changed.add('main-language')
    }
    if ((project.packages ?: []) != readJSON(text: params.MODEL_PACKAGES)) { changed.add('packages') }
    return changed
}

node(params.MODELSHIP_AGENT_LABEL) {
    deleteDir()
    try {
        String commit
        stage('Check out') {
            boolean pushed = !currentBuild.getBuildCauses('com.cloudbees.jenkins.GitHubPushCause').isEmpty()
            String wanted = pushed ? 'refs/heads/' + params.MODEL_BRANCH : params.MODEL_COMMIT
            dir('src') {
                checkout([
                    $class: 'GitSCM',
                    branches: [[name: wanted]],
                    userRemoteConfigs: [[
                        url: params.MODEL_REPO_URL,
                        credentialsId: params.MODELSHIP_GIT_CREDENTIALS ?: null,
                    ]],
                ])
                commit = sh(script: 'git rev-parse HEAD', returnStdout: true).trim()
                if (!pushed && commit != params.MODEL_COMMIT) {
                    error('checked out ' + commit + ' instead of ' + params.MODEL_COMMIT)
                }
            }
            List<String> changed = changedFromRendered(readYaml(file: 'src/MLproject'))
            if (changed) {
                error('the MLproject at ' + commit + ' changes ' + changed.join(', ') +
                      ' from what this job was rendered with: Modelship renders that commit, ' +
                      'then its build job builds it')
            }
            env.MODEL_BUILT_COMMIT = commit
            env.MODEL_IMAGE = params.MODEL_IMAGE_REPOSITORY + ':' + commit.substring(0, 7)
            currentBuild.description = env.MODEL_IMAGE
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
                    --build-arg PIP_INDEX_URL \\
                    --label "org.opencontainers.image.source=$MODEL_REPO_URL" \\
                    --label "org.opencontainers.image.revision=$MODEL_BUILT_COMMIT" \\
                    --label "dev.modelship.model-id=$MODEL_ID" \\
                    --label "dev.modelship.model-version=$MODEL_VERSION" \\
                    --tag "$MODEL_IMAGE" .
            '''
        }
        stage('Smoke test') {
            // As the Deployment runs it: read-only root file system, uid 10001, no capabilities,
            // an in-memory /tmp and the Deployment's environment. No answer on /healthz within
            // 60 s (or the server exits, e.g. refusing an artifact that is not MODEL_VERSION):
            // its log is printed and nothing is pushed.
            sh '''
                set -eu
                name="modelship-smoke-$MODEL_ID-$BUILD_NUMBER"
                docker run --detach --name "$name" --read-only --tmpfs /tmp \\
                    --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges \\
                    --env MODEL_ID --env MODEL_NAME --env MODEL_VERSION --env MODEL_PICKLE \\
                    --env MODEL_INPUT_TYPE --env MODEL_SLO_MICROSECONDS --env "PORT=$MODEL_PORT" \\
                    "$MODEL_IMAGE" >/dev/null
                trap 'docker rm --force "$name" >/dev/null' EXIT
                probe='import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)'
                for attempt in $(seq 60); do
                    if docker exec "$name" python -c "$probe" "http://127.0.0.1:$MODEL_PORT/healthz" 2>/dev/null; then
                        echo "$MODEL_IMAGE answered /healthz after $attempt s"
                        exit 0
                    fi
                    [ "$(docker inspect --format '{{.State.Running}}' "$name")" = true ] || break
                    sleep 1
                done
                docker logs "$name" >&2
                echo "$MODEL_IMAGE did not answer /healthz" >&2
                exit 1
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
        if (params.MODELSHIP_DISPATCH_REPOSITORY) {
            stage('Tell the platform') {
                // The platform repository's render workflow reads only this model's repository
                // and, the image being there now, renders its new commit at once.
                writeJSON(file: 'dispatch.json', json: [
                    event_type: 'model-changed',
                    client_payload: [repository: params.MODEL_REPOSITORY, sha: commit],
                ])
                withCredentials([string(
                    credentialsId: params.MODELSHIP_DISPATCH_CREDENTIALS,
                    variable: 'DISPATCH_TOKEN',
                )]) {
                    sh '''
                        set -eu
                        curl --fail --silent --show-error --max-time 30 --retry 3 \\
                            --header "Authorization: Bearer $DISPATCH_TOKEN" \\
                            --header "Accept: application/vnd.github+json" \\
                            --header "X-GitHub-Api-Version: 2022-11-28" \\
                            --data @dispatch.json \\
                            "$MODELSHIP_GITHUB_API_URL/repos/$MODELSHIP_DISPATCH_REPOSITORY/dispatches"
                    '''
                }
            }
        }
    } finally {
        deleteDir()
    }
}
