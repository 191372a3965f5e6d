declare module "asl-validator" {
  type ValidationResult = {
    isValid: boolean;
    errors: { "Error code": string; Message: string }[];
    errorsText: (separator?: string) => string;
  };
  /** Note: it mutates the definition it is given (adds QueryLanguage). Pass a clone. */
  function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): ValidationResult;
  export default aslValidator;
}
