/** load() or unload() of a model that is neither known nor a directory of the repository. */
export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`no model '${model.slice(0, 100)}' in the model repository`);
    this.name = 'UnknownModelError';
  }
}
